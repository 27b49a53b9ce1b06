import Synchronization
import RedisClient
import OrdersDomain
import OrdersEventLog

/// One log entry of a batch: its position, and the event it names (nil: unreadable, with why).
struct BatchEntry {
    let id: String
    let position: LogPosition
    let order: (orderId: String, version: Int)?
    let error: String?
}

/// One projector's part of a batch: its entries, what its projection writes for them, the
/// checkpoint it reaches and its dead letters.
struct BatchShare {
    let entries: [BatchEntry]
    /// The checkpoint after the batch (never behind the one before: a batch of redeliveries
    /// must not move it back).
    let checkpoint: LogPosition
    var batch = ProjectionBatch()
    var byOrder: [String: [BatchEntry]] = [:]
    var letters: [Letter] = []
    /// The orders whose writes touch any of these keys.
    var writersOf: (Set<String>) -> Set<String> = { _ in [] }

    init(entries: [BatchEntry], checkpoint: LogPosition) {
        self.entries = entries
        self.checkpoint = checkpoint
    }

    /// A log entry that cannot be applied, on its way to the dead-letter stream.
    struct Letter {
        let entry: BatchEntry
        let error: String
        /// The order's version the model reflects (what a redrive folds from).
        let fromVersion: Int
    }
}

/// A projector as a batch sees it: its lease, its consumer group, and its projection's share.
/// Type-erased so that one batch can serve every projection (`Projector<P>` is the one kind).
protocol BatchMember: AnyObject, Sendable {
    var name: String { get }
    var view: ViewKeys { get }
    var log: EventLog { get }
    var token: String? { get }
    /// No commit is sent after this: the lease may lapse soon after.
    var commitBefore: ContinuousClock.Instant { get }
    func createGroup() async throws
    func holdLease(force: Bool) async throws -> Bool
    func release() async
    func readBatch(blocking: Bool) async throws -> [BatchEntry]
    func readPendingFirst()
    func lost()
    var crashPoints: CrashPoints { get }
    func share(of entries: [BatchEntry], checkpoint: LogPosition?, streams: [String: [DecodedEvent]]) -> BatchShare
    func commitTail(_ share: BatchShare) -> [RedisCommand]
    func deadLetterCommands(_ letters: [BatchShare.Letter]) -> [RedisCommand]
}

/// One batch for one or more projectors (in `orders serve`, the live generation of every
/// projection). Each member reads its entries through its own consumer group and keeps its own
/// lease and checkpoint, but the orders' streams are read once and their events decoded once,
/// and every member's writes, checkpoint and XACK commit in one MULTI/EXEC fenced by all their
/// leases (WATCH).
final class BatchCycle: Sendable {
    let members: [any BatchMember]
    /// A connection of the caller's own, for the blocking reads and the commit: the WATCH lives on it.
    let connection: RedisClient
    /// The connection's reconnections and primary switches as last seen (see `step`).
    private let reconnectsSeen: Atomic<Int>

    init(members: [any BatchMember], connection: RedisClient) {
        self.members = members
        self.connection = connection
        self.reconnectsSeen = Atomic(connection.reconnectsAndSwitches)
    }

    /// The connection made again, or a Sentinel switch: a commit answered by a server that then
    /// lost it (a primary paused past a failover, resumed, answering before its demotion) left
    /// its entries pending on the new primary, where only reading pending entries finds them.
    private var reconnects: Int { connection.reconnectsAndSwitches }

    /// Takes or renews each member's lease, reads each one's next entries (pending first) and
    /// applies them. Waits up to a member's `block` for new entries only when none has any:
    /// the members read the same log, so new entries reach every group at once. Returns how
    /// many entries were read.
    func step() async throws -> Int {
        var active: [any BatchMember] = []
        for member in members where try await member.holdLease(force: false) { active.append(member) }
        guard let first = active.first else { return 0 }
        do {
            // A reconnection since the last look, or during the reads: pending entries first (what
            // was read is pending too, and is read again in order).
            let before = reconnects
            if reconnectsSeen.exchange(before, ordering: .relaxed) != before {
                for member in active { member.readPendingFirst() }
            }
            var batches: [(any BatchMember, [BatchEntry])] = []
            for member in active { batches.append((member, try await member.readBatch(blocking: false))) }
            if batches.allSatisfy({ $0.1.isEmpty }) {
                let waited = try await first.readBatch(blocking: true)
                guard !waited.isEmpty else { return 0 }
                batches = [(first, waited)]
                for member in active.dropFirst() { batches.append((member, try await member.readBatch(blocking: false))) }
            }
            if reconnects != before {
                for member in active { member.readPendingFirst() }
                return 0
            }
            batches.removeAll { $0.1.isEmpty }
            try await process(batches)
            return batches.reduce(0) { $0 + $1.1.count }
        } catch {
            // A read whose reply was lost (Redis died, a timeout) may still have delivered
            // entries, and a failed batch stays pending: either way the pending entries come
            // first, or a later batch's checkpoint would pass them unapplied.
            for member in active { member.readPendingFirst() }
            throw error
        }
    }

    /// Applies the members' entries in one commit. When folding took so long that a lease might
    /// lapse before the commit lands, the leases are renewed and the batch done again.
    func process(_ batches: [(any BatchMember, [BatchEntry])]) async throws {
        guard !batches.isEmpty else { return }
        for (member, _) in batches { await member.crashPoints.pass(.beforeCommit) }
        for _ in 0..<3 {
            switch try await attempt(batches) {
            case .committed, .leaseLost: return
            case .tooLate:
                for (member, _) in batches { guard try await member.holdLease(force: true) else { return } }
            }
        }
        for (member, _) in batches { member.readPendingFirst() } // read again by the next step
    }

    private enum Outcome { case committed, leaseLost, tooLate }

    private func attempt(_ batches: [(any BatchMember, [BatchEntry])]) async throws -> Outcome {
        guard let log = batches.first?.0.log,
              let end = batches.flatMap({ $0.1.map(\.position) }).max() else { return .committed }
        var tokens: [String] = []
        for (member, _) in batches {
            guard let token = member.token else { return .leaseLost }
            tokens.append(token)
        }
        // Every order of the batch, its stream read with the leases and the checkpoints as Redis
        // holds them now (after a Redis restart that lost its last second, a checkpoint may be
        // behind what was committed: Redis's is the truth).
        var orderIds: [String] = []
        var seen = Set<String>()
        for (_, entries) in batches {
            for entry in entries { if let orderId = entry.order?.orderId, seen.insert(orderId).inserted { orderIds.append(orderId) } }
        }
        var reads = [RedisCommand("WATCH", batches.map(\.0.view.lease))]
        for (member, _) in batches { reads += [RedisCommand("GET", member.view.lease), RedisCommand("GET", member.view.checkpoint)] }
        reads += orderIds.map { RedisCommand("XRANGE", log.keys.stream($0), "-", end.description) }
        let replies = try await connection.pipeline(reads)
        var lostLease = false
        for (index, (member, _)) in batches.enumerated() where replies[1 + 2 * index].string != tokens[index] {
            member.lost()
            lostLease = true
        }
        if lostLease {
            try await connection.send("UNWATCH")
            for (member, _) in batches where member.token != nil { member.readPendingFirst() }
            return .leaseLost
        }
        var streams: [String: [DecodedEvent]] = [:]
        for (orderId, reply) in zip(orderIds, replies.dropFirst(1 + 2 * batches.count)) {
            streams[orderId] = try Self.events(in: reply.orThrow(), of: orderId, log: log)
        }
        var shares: [BatchShare] = []
        for (index, (member, entries)) in batches.enumerated() {
            let checkpoint = try replies[2 + 2 * index].orThrow().string.flatMap { LogPosition($0) }
            shares.append(member.share(of: entries, checkpoint: checkpoint, streams: streams))
        }
        let writes = try await Self.resolve(shares.map(\.batch), on: connection)

        guard ContinuousClock.now < batches.map(\.0.commitBefore).min()! else {
            try await connection.send("UNWATCH")
            return .tooLate
        }
        var commit = [RedisCommand("MULTI")]
        var spans: [Range<Int>] = []
        for ((member, _), (share, memberWrites)) in zip(batches, zip(shares, writes)) {
            spans.append(commit.count..<(commit.count + memberWrites.count))
            commit += memberWrites.map(\.command) + member.commitTail(share)
        }
        commit.append(RedisCommand("EXEC"))
        let committed = try await connection.pipeline(commit)
        guard let results = try committed[commit.count - 1].orThrow().array else {
            // EXEC aborted: a lease changed hands since the WATCH. Which one is seen on the next
            // step (its renewal fails); every member reads its pending entries again.
            for (member, _) in batches { member.readPendingFirst() }
            return .leaseLost
        }
        for ((member, _), (share, (memberWrites, span))) in zip(batches, zip(shares, zip(writes, spans))) {
            for letter in share.letters {
                Log.error("projector.dead_lettered", ["projection": member.name, "logId": letter.entry.id, "error": letter.error])
            }
            // EXEC's replies follow the queued commands, MULTI not among them.
            let memberResults = Array(results[(span.lowerBound - 1)..<(span.upperBound - 1)])
            try await chargeRefusedWrites(memberWrites, results: memberResults, share: share, member: member)
        }
        return .committed
    }

    /// Every share's counters and listed collections read in one round trip (on the connection
    /// that holds the WATCH) and each share resolved into its writes.
    static func resolve(_ batches: [ProjectionBatch], on connection: RedisClient) async throws -> [[ProjectionBatch.Write]] {
        let lookups = batches.map(\.lookups)
        let replies = try await connection.pipeline(lookups.flatMap { $0.map(\.command) })[...]
        var rest = replies
        var writes: [[ProjectionBatch.Write]] = []
        for (batch, own) in zip(batches, lookups) {
            writes.append(batch.writes(given: try ProjectionBatch.Current(own, replies: Array(rest.prefix(own.count)))))
            rest = rest.dropFirst(own.count)
        }
        return writes
    }

    /// The events of an order's stream (up to the batch's end), decoded; an entry that cannot be
    /// read ends the list there, so every fold stops before it.
    private static func events(in reply: RedisValue, of orderId: String, log: EventLog) throws -> [DecodedEvent] {
        var events: [DecodedEvent] = []
        for entry in reply.array ?? [] {
            guard let event = try? EventLog.decodeEntry(entry, orderId: orderId, key: log.keys.stream(orderId)) else { break }
            events.append(DecodedEvent(event))
        }
        return events
    }

    /// A write Redis refused inside the commit (a key of the wrong type, put there by hand): the
    /// orders that wrote that key get their batch's entries dead-lettered, so a redrive can apply
    /// them once the key is fixed. Everything else in the batch was applied.
    private func chargeRefusedWrites(_ writes: [ProjectionBatch.Write], results: [RedisValue], share: BatchShare,
                                     member: any BatchMember) async throws {
        var refused: [String: String] = [:]
        for (write, result) in zip(writes, results) {
            guard case .error(let message) = result else { continue }
            Log.error("projector.write_refused", ["projection": member.name, "key": write.key, "error": message])
            refused[write.key] = "Redis refused a write to \(write.key): \(message)"
        }
        guard !refused.isEmpty else { return }
        var letters: [BatchShare.Letter] = []
        for orderId in share.writersOf(Set(refused.keys)) {
            // The order's model is where it was before the batch: the fold up to its first entry.
            let entries = (share.byOrder[orderId] ?? []).sorted { $0.position < $1.position }
            let fromVersion = (entries.first?.order?.version ?? 1) - 1
            let error = refused.values.sorted().joined(separator: "; ")
            for entry in entries { letters.append(BatchShare.Letter(entry: entry, error: error, fromVersion: fromVersion)) }
        }
        _ = try await connection.pipeline([RedisCommand("MULTI")] + member.deadLetterCommands(letters) + [RedisCommand("EXEC")])
        for letter in letters {
            Log.error("projector.dead_lettered", ["projection": member.name, "logId": letter.entry.id, "error": letter.error])
        }
    }
}

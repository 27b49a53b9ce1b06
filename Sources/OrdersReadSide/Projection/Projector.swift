import Foundation
import Synchronization
import RedisClient
import OrdersDomain
import OrdersEventLog

/// Feeds one projection generation from the log through a Redis consumer group, a batch at a
/// time, exactly once; alone (`step`), or with the projectors of the other projections in a
/// `ProjectorGroup`, which reads the orders' streams of a batch once for all of them.
///
/// Exactly-once is a property of the batch: one projector at a time holds the generation's
/// lease (`orders_lease`; other instances stand by and take over when it lapses), and a batch's
/// read-model writes, the new checkpoint (the last log position applied) and the XACK of its
/// entries commit together in one MULTI/EXEC, fenced by the lease (WATCH on the lease key, and
/// a commit is only sent while the lease has half its time left). Entries at or below the
/// checkpoint were applied already: a redelivery only acknowledges them.
///
/// Per batch (`BatchCycle`), one pipelined XRANGE per order reads the order's stream up to the batch's end:
/// its events at or below the checkpoint fold into what the model holds now, all of them into
/// what it must hold. There are no per-order guards, and no reads of the model itself, except
/// the counters a batch changes (read once per batch, resolved in the service).
///
/// An event that cannot be folded (an unknown type, a malformed entry, a gap in its stream) can
/// never be applied by this build, so its log entry goes to the dead-letter stream in the commit
/// of its batch, with the order's later events; the order stays where it was until a redrive.
/// A batch that fails for any other reason (Redis down) stays pending and is read again.
public final class Projector<P: Projection>: BatchMember {
    public let projection: P
    public let log: EventLog
    public let view: ViewKeys
    public let settings: ProjectorSettings
    /// The connection a batch is read (blocking) and committed on, in turn: a blocking read must
    /// not hold up other commands, and the commit's WATCH must not be shared with other callers.
    /// The projectors of a group share their group's: its batches read and commit one at a time.
    let connection: RedisClient
    private let holding = Mutex(Holding())

    /// This projector's hold on the lease, and what it knows while holding it.
    private struct Holding {
        var token: String?
        /// When the lease was last taken or renewed (as sent): it is renewed after a third of its
        /// time, and no commit is sent after half of it (the lease may lapse soon after).
        var renewed = ContinuousClock.now
        /// Read this consumer's pending entries before new ones (after taking over, or after a
        /// batch that was not committed).
        var drainPending = true
    }

    public var group: String { "view:\(P.name):g\(view.generation)" }

    /// A projector of `projection`'s `generation`, on `connection` (nil: one of its own).
    public init(projection: P, log: EventLog, generation: Int = 1, settings: ProjectorSettings, connection: RedisClient? = nil) {
        self.projection = projection
        self.log = log
        self.view = ViewKeys(keys: log.keys, projection: P.name, generation: generation)
        self.settings = settings
        self.connection = connection ?? settings.connection(to: log)
    }

    /// True while this projector holds the lease.
    public var isActive: Bool { holding.withLock { $0.token != nil } }

    /// Creates the consumer group at the start of the log if it does not exist yet.
    public func createGroup() async throws {
        try await createGroup(at: "0", checkpoint: nil)
    }

    /// Creates the consumer group at `start` if it does not exist yet. A checkpoint given here
    /// (a rebuild's: what it folded) is where the generation's projector starts.
    public func createGroup(at start: String, checkpoint: LogPosition?) async throws {
        do {
            try await log.redis.send("XGROUP", "CREATE", log.keys.log, group, start, "MKSTREAM")
        } catch RedisError.server(let message) where message.hasPrefix("BUSYGROUP") {
            // Another instance created it first.
        }
        if let checkpoint { try await log.redis.send("SET", view.checkpoint, checkpoint.description, "NX") }
    }

    /// Creates the consumer group at the log's head, in one command (so the log's retention,
    /// which keeps every entry some group has not applied, never trims past a head read before
    /// the group existed), and sets the checkpoint there; returns the head (nil: an empty log).
    public func createGroupAtHead() async throws -> LogPosition? {
        do {
            try await log.redis.send("XGROUP", "CREATE", log.keys.log, group, "$", "MKSTREAM")
        } catch RedisError.server(let message) where message.hasPrefix("BUSYGROUP") {
            // Another instance created it first: its position stands.
        }
        var head: LogPosition?
        for entry in try await log.redis.send("XINFO", "GROUPS", log.keys.log).array ?? [] {
            let fields = entry.fieldValues
            guard fields["name"]?.string == group else { continue }
            head = fields["last-delivered-id"]?.string.flatMap { LogPosition($0) }
        }
        if head == LogPosition(milliseconds: 0) { head = nil }
        if let head { try await log.redis.send("SET", view.checkpoint, head.description, "NX") }
        return head
    }

    /// Consumes alone until the task is cancelled (see `ProjectorGroup.run`).
    public func run() async {
        await ProjectorGroup([self], connection: connection, settings: settings).run()
    }

    /// Takes or renews the lease, then reads one batch (waiting up to `block`), applies and
    /// acknowledges it. Returns how many entries were read (0 when another instance holds the
    /// lease).
    @discardableResult
    public func step() async throws -> Int {
        try await BatchCycle(members: [self], connection: connection).step()
    }

    /// Applies entries read by hand (tests): this projector's batch alone.
    func process(_ entries: [BatchEntry]) async throws {
        try await BatchCycle(members: [self], connection: connection).process([(self, entries)])
    }

    /// Lets the lease go if this projector holds it.
    public func release() async {
        guard let token = holding.withLock({ state in defer { state.token = nil }; return state.token }) else { return }
        // Called as the projector's task is cancelled (a shutdown), and a cancelled task's Redis
        // calls fail at once: the release runs in a task of its own, or the lease would linger
        // until it lapses and no other instance could take over before.
        let released = await Task { [log, view] in
            try await FunctionLibrary.call(RedisCommand("FCALL", "orders_lease", 1, view.lease, FunctionLibrary.version,
                                                        "release", token), on: log.redis)
        }.result
        switch released {
        case .success: Log.info("projector.lease_released", ["projection": P.name, "generation": view.generation])
        case .failure(let error): Log.warning("projector.lease_not_released", ["projection": P.name, "generation": view.generation, "error": error])
        }
    }

    // MARK: - The lease

    /// Takes or renews the lease: tests drive a projector's batches by hand with `process`.
    func acquire() async throws -> Bool { try await holdLease() }

    var name: String { P.name }
    var token: String? { holding.withLock { $0.token } }
    var commitBefore: ContinuousClock.Instant { holding.withLock { $0.renewed } + settings.lease / 2 }
    var crashPoints: CrashPoints { settings.crashPoints }

    /// True when this projector holds the lease (renewed when a third of it has passed). On
    /// taking it over, it claims every entry still pending in the group (a dead holder's
    /// uncommitted batch), to be read before new ones.
    func holdLease(force: Bool = false) async throws -> Bool {
        let (current, renewed) = holding.withLock { ($0.token, $0.renewed) }
        let now = ContinuousClock.now
        if current != nil && now < renewed + settings.lease / 3 && !force { return true }
        let token = current ?? "\(settings.consumer)#\(UInt64.random(in: 1...UInt64.max))"
        let milliseconds = max(1, settings.lease.milliseconds)
        let reply = try await FunctionLibrary.call(RedisCommand("FCALL", "orders_lease", 1, view.lease, FunctionLibrary.version,
                                                                "hold", token, milliseconds), on: log.redis)
        guard reply.array?.first?.string == "held" else {
            if current != nil { lost() }
            return false
        }
        if current == nil {
            try await claimPending()
            holding.withLock { $0.drainPending = true }
            Log.info("projector.lease_taken", ["projection": P.name, "generation": view.generation])
        }
        holding.withLock {
            $0.token = token
            $0.renewed = now
        }
        return true
    }

    /// Moves every entry pending in the group to this consumer.
    private func claimPending() async throws {
        var cursor = "0-0"
        repeat {
            let reply = try await log.redis.send("XAUTOCLAIM", log.keys.log, group, settings.consumer, 0, cursor, "COUNT", 1000)
            cursor = reply.array?.first?.string ?? "0-0"
        } while cursor != "0-0"
    }

    func lost() {
        holding.withLock {
            $0.token = nil
            $0.drainPending = true
        }
        Log.warning("projector.lease_lost", ["projection": P.name, "generation": view.generation])
    }

    /// The pending entries come first next time: a read whose reply was lost may have delivered
    /// entries, and a batch that was not committed stays pending.
    func readPendingFirst() {
        holding.withLock { $0.drainPending = true }
    }

    // MARK: - Reading the log

    /// This consumer's next entries: its pending ones first (after a takeover or a failure),
    /// then new ones, waiting up to `block` for them when `blocking`.
    func readBatch(blocking: Bool) async throws -> [BatchEntry] {
        if holding.withLock({ $0.drainPending }) {
            let reply = try await connection.send("XREADGROUP", "GROUP", group, settings.consumer, "COUNT", settings.batchSize,
                                              "STREAMS", log.keys.log, "0")
            let entries = Self.entries(of: reply, in: log)
            if !entries.isEmpty { return entries }
            holding.withLock { $0.drainPending = false }
        }
        let reply = blocking
            ? try await connection.send("XREADGROUP", "GROUP", group, settings.consumer, "COUNT", settings.batchSize,
                                    "BLOCK", settings.block.milliseconds, "STREAMS", log.keys.log, ">")
            : try await connection.send("XREADGROUP", "GROUP", group, settings.consumer, "COUNT", settings.batchSize,
                                    "STREAMS", log.keys.log, ">")
        return Self.entries(of: reply, in: log)
    }

    /// XREADGROUP's `[[key, [[id, fields], …]]]` as batch entries.
    static func entries(of reply: RedisValue, in log: EventLog) -> [BatchEntry] {
        guard let streams = reply.array, let first = streams.first?.array, first.count == 2 else { return [] }
        return entries(ofRange: first[1], in: log)
    }

    /// XRANGE's `[[id, fields], …]` as batch entries (an entry deleted from the log while pending
    /// comes back without fields: it has nothing to apply).
    static func entries(ofRange reply: RedisValue, in log: EventLog) -> [BatchEntry] {
        (reply.array ?? []).compactMap { entry in
            guard let pair = entry.array, pair.count == 2, let id = pair[0].string, let position = LogPosition(id) else { return nil }
            guard pair[1].array != nil else { return BatchEntry(id: id, position: position, order: nil, error: nil) }
            do {
                switch try EventLog.decodeLogRecord(entry, key: log.keys.log) {
                case .event(let event): return BatchEntry(id: id, position: position, order: (event.orderId, event.version), error: nil)
                case .reference(let orderId, let version, _): return BatchEntry(id: id, position: position, order: (orderId, version), error: nil)
                }
            } catch {
                return BatchEntry(id: id, position: position, order: nil, error: "\(error)")
            }
        }
    }

    // MARK: - This projection's share of a batch

    /// Folds the orders of `entries` from the streams read for the batch (every event up to the
    /// batch's end, decoded): what the model holds is the fold of the events at or below the
    /// checkpoint, what it must hold the fold of those up to this projector's last entry.
    func share(of entries: [BatchEntry], checkpoint: LogPosition?, streams: [String: [DecodedEvent]]) -> BatchShare {
        let end = entries.map(\.position).max() ?? checkpoint ?? LogPosition(milliseconds: 0)
        var share = BatchShare(entries: entries, checkpoint: max(end, checkpoint ?? end))
        for entry in entries {
            if let checkpoint, entry.position <= checkpoint { continue } // applied already: acknowledged in the commit
            if let error = entry.error {
                share.letters.append(BatchShare.Letter(entry: entry, error: error, fromVersion: 0))
            } else if let order = entry.order {
                share.byOrder[order.orderId, default: []].append(entry)
            }
        }
        var folds: [(orderId: String, before: P.State?, after: P.State?)] = []
        for (orderId, orderEntries) in share.byOrder {
            let events = (streams[orderId] ?? []).prefix { $0.recorded.position <= end }
            let before = projection.fold(decoded: events.prefix { event in checkpoint.map { event.recorded.position <= $0 } ?? false },
                                         from: 0, nil)
            let after = projection.fold(decoded: Array(events), from: 0, nil)
            projection.write(orderId, from: before.state, to: after.state, into: &share.batch, in: view)
            folds.append((orderId, before.state, after.state))
            for entry in orderEntries where entry.order!.version > after.version {
                share.letters.append(BatchShare.Letter(entry: entry, error: Self.reason(entry.order!.version, stopped: after.stopped,
                                                                                        reached: after.version),
                                                       fromVersion: after.version))
            }
        }
        // Which orders wrote a key Redis refused (rare: only after a key was damaged by hand):
        // each order's writes made again, alone.
        share.writersOf = { [projection, view] refused in
            Set(folds.filter { fold in
                var alone = ProjectionBatch()
                projection.write(fold.orderId, from: fold.before, to: fold.after, into: &alone, in: view)
                return !alone.plainKeys.isDisjoint(with: refused)
            }.map(\.orderId))
        }
        return share
    }

    /// Why an entry of an order whose fold stopped at `reached` was not applied.
    private static func reason(_ version: Int, stopped: FoldStop?, reached: Int) -> String {
        switch stopped {
        case .unreadable(let event, let error)? where event.version == version: "\(error)"
        case .unreadable(let event, _)?: "it follows version \(event.version) of its order, which could not be applied"
        case .gap(let expected, _)?: "the order's stream lacks version \(expected)"
        case nil: "the order's stream does not hold version \(version) (it reaches version \(reached))"
        }
    }

    /// What the commit holds for this projector's share, after its resolved writes: the new
    /// checkpoint, the XACK of every entry, and its dead letters.
    func commitTail(_ share: BatchShare) -> [RedisCommand] {
        [RedisCommand("SET", view.checkpoint, share.checkpoint.description),
         RedisCommand("XACK", [log.keys.log, group] + share.entries.map(\.id))] + deadLetterCommands(share.letters)
    }

    func deadLetterCommands(_ letters: [BatchShare.Letter]) -> [RedisCommand] {
        guard !letters.isEmpty else { return [] }
        let at = Timestamp.now().description
        var commands = letters.map { letter in
            RedisCommand("XADD", log.keys.deadLetter, "*", "projection", P.name, "logId", letter.entry.id,
                         "orderId", letter.entry.order?.orderId ?? "", "version", letter.entry.order?.version ?? 0,
                         "fromVersion", letter.fromVersion, "attempts", 1, "error", letter.error, "at", at)
        }
        commands.append(RedisCommand("HINCRBY", log.keys.deadLetterCounts, P.name, letters.count))
        return commands
    }
}

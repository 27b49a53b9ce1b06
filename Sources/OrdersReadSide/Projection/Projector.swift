import Foundation
import Synchronization
import RedisClient
import OrdersDomain
import OrdersEventLog

/// Feeds one projection generation from the log through a Redis consumer group, a batch at a
/// time, exactly once.
///
/// Exactly-once is a property of the batch: one projector at a time holds the generation's
/// lease (`orders_lease`; other instances stand by and take over when it lapses), and a batch's
/// read-model writes, the new checkpoint (the last log position applied) and the XACK of its
/// entries commit together in one MULTI/EXEC, fenced by the lease (WATCH on the lease key, and
/// a commit is only sent while the lease has half its time left). Entries at or below the
/// checkpoint were applied already: a redelivery only acknowledges them.
///
/// Per batch, one pipelined XRANGE per order reads the order's stream up to the batch's end:
/// its events at or below the checkpoint fold into what the model holds now, all of them into
/// what it must hold. There are no per-order guards, and no reads of the model itself, except
/// the counters a batch changes (read once per batch, resolved in the service).
///
/// An event that cannot be folded (an unknown type, a malformed entry, a gap in its stream) can
/// never be applied by this build, so its log entry goes to the dead-letter stream in the commit
/// of its batch, with the order's later events; the order stays where it was until a redrive.
/// A batch that fails for any other reason (Redis down) stays pending and is read again.
public final class Projector<P: Projection>: Sendable {
    public let projection: P
    public let log: EventLog
    public let view: ViewKeys
    public let settings: ProjectorSettings
    /// Blocking reads get a connection of their own, so they never hold up other commands.
    private let reader: RedisClient
    /// The commit's WATCH lives on its connection: nothing else may use it.
    private let writer: RedisClient
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

    public init(projection: P, log: EventLog, generation: Int = 1, settings: ProjectorSettings) {
        self.projection = projection
        self.log = log
        self.view = ViewKeys(keys: log.keys, projection: P.name, generation: generation)
        self.settings = settings
        self.reader = log.redis.dedicated(commandTimeout: settings.block + .seconds(5))
        self.writer = log.redis.dedicated()
    }

    deinit {
        reader.close()
        writer.close()
    }

    /// True while this projector holds the lease.
    public var isActive: Bool { holding.withLock { $0.token != nil } }

    /// Creates the consumer group at `start` if it does not exist yet. A checkpoint given here
    /// (a rebuild's: what it folded) is where the generation's projector starts.
    public func createGroup(at start: String = "0", checkpoint: LogPosition? = nil) async throws {
        do {
            try await log.redis.send("XGROUP", "CREATE", log.keys.log, group, start, "MKSTREAM")
        } catch RedisError.server(let message) where message.hasPrefix("BUSYGROUP") {
            // Another instance created it first.
        }
        if let checkpoint { try await log.redis.send("SET", view.checkpoint, checkpoint.description, "NX") }
    }

    /// Consumes until the task is cancelled, or until its consumer group is destroyed (a rebuild
    /// replaced this generation). Redis outages are waited out with backoff. Without the lease
    /// it stands by, trying to take it every `lease / 5`. On cancellation it lets the lease go,
    /// so another instance takes over at once.
    public func run() async {
        var backoff = Duration.milliseconds(50)
        var groupReady = false
        while !Task.isCancelled {
            do {
                if !groupReady {
                    try await createGroup()
                    groupReady = true
                }
                try await step()
                if !isActive { try? await Task.sleep(for: settings.lease / 5) }
                backoff = .milliseconds(50)
            } catch RedisError.server(let message) where message.hasPrefix("NOGROUP") {
                // A rebuild replaced this generation (it destroys the old group after its switch),
                // or the group vanished with Redis's data while this generation is still live:
                // then it is created again, and what the checkpoint holds is only acknowledged.
                if let live = try? await LiveGenerations(log: log).live(P.name), live == view.generation {
                    Log.warning("projector.group_recreated", ["projection": P.name, "group": group])
                    groupReady = false
                    holding.withLock { $0.drainPending = true }
                    continue
                }
                Log.info("projector.group_gone", ["projection": P.name, "group": group])
                break
            } catch {
                if Task.isCancelled { break }
                Log.warning("projector.retrying", ["projection": P.name, "error": error])
                try? await Task.sleep(for: backoff)
                backoff = min(backoff * 2, .seconds(2))
            }
        }
        await release()
    }

    /// Takes or renews the lease, then reads one batch (waiting up to `block`), applies and
    /// acknowledges it. Returns how many entries were read (0 when another instance holds the
    /// lease).
    @discardableResult
    public func step() async throws -> Int {
        guard try await holdLease() else { return 0 }
        do {
            let entries = try await readBatch()
            if !entries.isEmpty { try await process(entries) }
            return entries.count
        } catch {
            // A read whose reply was lost (Redis died, a timeout) may still have delivered
            // entries to this consumer, and a failed batch stays pending: either way the pending
            // entries come first, or a later batch's checkpoint would pass them unapplied.
            holding.withLock { $0.drainPending = true }
            throw error
        }
    }

    /// Lets the lease go if this projector holds it.
    public func release() async {
        guard let token = holding.withLock({ state in defer { state.token = nil }; return state.token }) else { return }
        _ = try? await FunctionLibrary.call(RedisCommand("FCALL", "orders_lease", 1, view.lease, FunctionLibrary.version,
                                                         "release", token), on: log.redis)
        Log.info("projector.lease_released", ["projection": P.name, "generation": view.generation])
    }

    // MARK: - The lease

    /// Takes or renews the lease: tests drive a projector's batches by hand with `process`.
    func acquire() async throws -> Bool { try await holdLease() }

    /// True when this projector holds the lease (renewed when a third of it has passed). On
    /// taking it over, it claims every entry still pending in the group
    /// (a dead holder's uncommitted batch), to be read before new ones.
    private func holdLease(force: Bool = false) async throws -> Bool {
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

    // MARK: - A batch

    /// One log entry of a batch: its position, and the event it names (nil: unreadable).
    struct BatchEntry {
        let id: String
        let position: LogPosition
        let order: (orderId: String, version: Int)?
        let error: String?
    }

    private func readBatch() async throws -> [BatchEntry] {
        if holding.withLock({ $0.drainPending }) {
            let reply = try await reader.send("XREADGROUP", "GROUP", group, settings.consumer, "COUNT", settings.batchSize,
                                              "STREAMS", log.keys.log, "0")
            let entries = Self.entries(of: reply, in: log)
            if !entries.isEmpty { return entries }
            holding.withLock { $0.drainPending = false }
        }
        let reply = try await reader.send("XREADGROUP", "GROUP", group, settings.consumer, "COUNT", settings.batchSize,
                                          "BLOCK", settings.block.milliseconds, "STREAMS", log.keys.log, ">")
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

    /// A log entry that cannot be applied, on its way to the dead-letter stream.
    struct Letter {
        let entry: BatchEntry
        let error: String
        /// The order's version the model reflects (what a redrive folds from).
        let fromVersion: Int
    }

    /// Applies a batch: reads the orders' streams (fenced by the lease), folds, and commits the
    /// writes with the checkpoint and the XACK of every entry. When folding took so long that the
    /// lease might lapse before the commit lands, the lease is renewed and the batch done again.
    func process(_ entries: [BatchEntry]) async throws {
        for _ in 0..<3 {
            switch try await attempt(entries) {
            case .committed, .leaseLost: return
            case .tooLate: guard try await holdLease(force: true) else { return }
            }
        }
        holding.withLock { $0.drainPending = true } // read again by the next step
    }

    private enum Outcome { case committed, leaseLost, tooLate }

    private func attempt(_ entries: [BatchEntry]) async throws -> Outcome {
        guard let end = entries.map(\.position).max() else { return .committed }
        guard let token = holding.withLock({ $0.token }) else { return .leaseLost }
        // Every order of the batch, its stream read with the lease and the checkpoint as Redis
        // holds them now (after a Redis restart that lost its last second, the checkpoint may be
        // behind what this projector committed: Redis's is the truth).
        var orderIds: [String] = []
        var seen = Set<String>()
        for entry in entries { if let orderId = entry.order?.orderId, seen.insert(orderId).inserted { orderIds.append(orderId) } }
        var reads = [RedisCommand("WATCH", view.lease), RedisCommand("GET", view.lease), RedisCommand("GET", view.checkpoint)]
        reads += orderIds.map { RedisCommand("XRANGE", log.keys.stream($0), "-", end.description) }
        let replies = try await writer.pipeline(reads)
        guard replies[1].string == token else {
            try await writer.send("UNWATCH")
            lost()
            return .leaseLost
        }
        let checkpoint = try replies[2].orThrow().string.flatMap { LogPosition($0) }
        var letters: [Letter] = []
        var byOrder: [String: [BatchEntry]] = [:]
        for entry in entries {
            if let checkpoint, entry.position <= checkpoint { continue } // applied already: acknowledged below
            if let error = entry.error {
                letters.append(Letter(entry: entry, error: error, fromVersion: 0))
            } else if let order = entry.order {
                byOrder[order.orderId, default: []].append(entry)
            }
        }

        var batch = ProjectionBatch()
        var folds: [Fold] = []
        for (orderId, reply) in zip(orderIds, replies.dropFirst(3)) where byOrder[orderId] != nil {
            let events = try Self.events(in: reply.orThrow(), of: orderId, log: log)
            let before = projection.fold(events.filter { event in checkpoint.map { event.position <= $0 } ?? false }, from: 0, nil)
            let after = projection.fold(events, from: 0, nil)
            projection.write(orderId, from: before.state, to: after.state, into: &batch, in: view)
            folds.append(Fold(orderId: orderId, before: before.state, after: after.state))
            for entry in byOrder[orderId]! where entry.order!.version > after.version {
                letters.append(Letter(entry: entry, error: Self.reason(entry.order!.version, stopped: after.stopped, reached: after.version),
                                      fromVersion: after.version))
            }
        }
        let writes = try await batch.resolved(on: writer)

        guard ContinuousClock.now < holding.withLock({ $0.renewed }) + settings.lease / 2 else {
            try await writer.send("UNWATCH")
            return .tooLate
        }
        if settings.faultBeforeCommit() {
            try await writer.send("UNWATCH")
            throw SimulatedCrash()
        }
        var commit = [RedisCommand("MULTI")] + writes.map(\.command)
        // A batch of redeliveries only (all at or below the checkpoint) must not move it back.
        commit.append(RedisCommand("SET", view.checkpoint, max(end, checkpoint ?? end).description))
        commit.append(RedisCommand("XACK", [log.keys.log, group] + entries.map(\.id)))
        commit += deadLetterCommands(letters)
        commit.append(RedisCommand("EXEC"))
        let committed = try await writer.pipeline(commit)
        guard let results = try committed[commit.count - 1].orThrow().array else {
            lost() // EXEC aborted: the lease changed hands since the WATCH
            return .leaseLost
        }
        for letter in letters {
            Log.error("projector.dead_lettered", ["projection": P.name, "logId": letter.entry.id, "error": letter.error])
        }
        try await chargeRefusedWrites(writes, results: results, folds: folds, byOrder: byOrder)
        return .committed
    }

    /// One order's states before and after a batch.
    private struct Fold {
        let orderId: String
        let before: P.State?
        let after: P.State?
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

    /// The events of an order's stream (up to the batch's end); an entry that cannot be read ends
    /// the list there, so the fold stops before it.
    private static func events(in reply: RedisValue, of orderId: String, log: EventLog) throws -> [RecordedEvent] {
        var events: [RecordedEvent] = []
        for entry in reply.array ?? [] {
            guard let event = try? EventLog.decodeEntry(entry, orderId: orderId, key: log.keys.stream(orderId)) else { break }
            events.append(event)
        }
        return events
    }

    private func deadLetterCommands(_ letters: [Letter]) -> [RedisCommand] {
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

    /// A write Redis refused inside the commit (a key of the wrong type, put there by hand): the
    /// orders that wrote that key get their batch's entries dead-lettered, so a redrive can apply
    /// them once the key is fixed. Everything else in the batch was applied.
    private func chargeRefusedWrites(_ writes: [ProjectionBatch.Write], results: [RedisValue], folds: [Fold],
                                     byOrder: [String: [BatchEntry]]) async throws {
        var refused: [String: String] = [:]
        for (write, result) in zip(writes, results) {
            guard case .error(let message) = result else { continue }
            Log.error("projector.write_refused", ["projection": P.name, "key": write.key, "error": message])
            refused[write.key] = "Redis refused a write to \(write.key): \(message)"
        }
        guard !refused.isEmpty else { return }
        // Which orders wrote a refused key: each order's writes made again, alone (rare: only
        // after a key was damaged by hand).
        var charged: [String: String] = [:]
        for fold in folds {
            var alone = ProjectionBatch()
            projection.write(fold.orderId, from: fold.before, to: fold.after, into: &alone, in: view)
            if let key = alone.plainKeys.first(where: { refused[$0] != nil }) { charged[fold.orderId] = refused[key] }
        }
        var letters: [Letter] = []
        for (orderId, error) in charged {
            // The order's model is where it was before the batch: the fold up to its first entry.
            let entries = (byOrder[orderId] ?? []).sorted { $0.position < $1.position }
            let fromVersion = (entries.first?.order?.version ?? 1) - 1
            for entry in entries { letters.append(Letter(entry: entry, error: error, fromVersion: fromVersion)) }
        }
        _ = try await writer.pipeline([RedisCommand("MULTI")] + deadLetterCommands(letters) + [RedisCommand("EXEC")])
        for letter in letters {
            Log.error("projector.dead_lettered", ["projection": P.name, "logId": letter.entry.id, "error": letter.error])
        }
    }

    private func lost() {
        holding.withLock {
            $0.token = nil
            $0.drainPending = true
        }
        Log.warning("projector.lease_lost", ["projection": P.name, "generation": view.generation])
    }
}

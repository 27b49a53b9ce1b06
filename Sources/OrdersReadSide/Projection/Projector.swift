import Foundation
import RedisClient
import OrdersDomain
import OrdersEventLog

/// Feeds one projection from the global log through a Redis consumer group: read a batch, apply
/// it, then XACK. Any number of projectors (threads, processes) may share the group.
///
/// Per batch: read what the projection holds for each order in it (one pipelined round trip),
/// fold each order's new events in version order (pure), and write each order's changes with one
/// guarded `orders_project` call (one pipelined round trip). An event at or below the version the
/// model holds was applied already and is only acknowledged. A gap (v3 before v2: another
/// consumer has v2) is healed by folding the missing events from the order's own stream. A guard
/// that moved meanwhile (a competing consumer) makes the projector re-read and try again.
///
/// Entries that fail stay pending and are claimed again after `claimAfter`, doubling per
/// delivery; after `maxDeliveries` they go to the dead-letter stream and are acknowledged.
public final class Projector<P: Projection>: Sendable {
    public let projection: P
    public let log: EventLog
    public let view: ViewKeys
    public let settings: ProjectorSettings
    /// Blocking reads get a connection of their own, so they never hold up other commands.
    private let reader: RedisClient

    public var group: String { "view:\(P.name):g\(view.generation)" }

    public init(projection: P, log: EventLog, generation: Int = 1, settings: ProjectorSettings) {
        self.projection = projection
        self.log = log
        self.view = ViewKeys(keys: log.keys, projection: P.name, generation: generation)
        self.settings = settings
        self.reader = log.redis.dedicated(commandTimeout: settings.block + .seconds(5))
    }

    deinit { reader.close() }

    /// Creates the consumer group at the start of the log if it does not exist yet.
    public func createGroup(at start: String = "0") async throws {
        do {
            try await log.redis.send("XGROUP", "CREATE", log.keys.log, group, start, "MKSTREAM")
        } catch RedisError.server(let message) where message.hasPrefix("BUSYGROUP") {
            // Another instance created it first.
        }
    }

    /// Consumes until the task is cancelled, or until its consumer group is destroyed (a rebuild
    /// replaced this generation). Redis outages are waited out with backoff. The group is created
    /// once, before the loop: re-creating it later would re-project the whole log into a
    /// generation that was just dropped.
    public func run() async {
        var lastClaim = ContinuousClock.now
        var backoff = Duration.milliseconds(50)
        var groupReady = false
        while !Task.isCancelled {
            do {
                if !groupReady {
                    try await createGroup()
                    groupReady = true
                }
                if ContinuousClock.now - lastClaim >= settings.claimAfter / 2 {
                    lastClaim = .now
                    try await claimStalled()
                }
                try await step()
                backoff = .milliseconds(50)
            } catch RedisError.server(let message) where message.hasPrefix("NOGROUP") {
                // A rebuild replaced this generation (it destroys the old group after its switch),
                // or the group vanished with Redis's data while this generation is still live:
                // then it is created again, and the log projected again (idempotently).
                if let live = try? await LiveGenerations(log: log).live(P.name), live == view.generation {
                    Log.warning("projector.group_recreated", ["projection": P.name, "group": group])
                    groupReady = false
                    continue
                }
                Log.info("projector.group_gone", ["projection": P.name, "group": group])
                return
            } catch {
                if Task.isCancelled { break }
                Log.warning("projector.retrying", ["projection": P.name, "error": error])
                try? await Task.sleep(for: backoff)
                backoff = min(backoff * 2, .seconds(2))
            }
        }
    }

    /// Reads one batch (waiting up to `block`), applies and acknowledges it. Returns how many
    /// entries were read.
    @discardableResult
    public func step() async throws -> Int {
        let reply = try await reader.send("XREADGROUP", "GROUP", group, settings.consumer, "COUNT", settings.batchSize,
                                          "BLOCK", settings.block.milliseconds,
                                          "STREAMS", log.keys.log, ">")
        let entries = try await LogEntry.streamEntries(of: reply, in: log)
        if !entries.isEmpty { try await process(entries) }
        return entries.count
    }

    /// Applies entries and acknowledges the ones that are done; failed ones stay pending.
    func process(_ entries: [LogEntry]) async throws {
        var done: [String] = []
        var byOrder: [String: [(id: String, event: RecordedEvent)]] = [:]
        for entry in entries {
            switch entry.event {
            case .success(let event): byOrder[event.orderId, default: []].append((entry.id, event))
            case .failure(let error):
                Log.warning("projector.unreadable_entry", ["projection": P.name, "id": entry.id, "error": error])
            }
        }
        var pendingOrders = byOrder.mapValues { $0.sorted { $0.event.version < $1.event.version } }
        for _ in 0..<5 where !pendingOrders.isEmpty {
            let orderIds = Array(pendingOrders.keys)
            let current = try await readStates(orderIds)
            var writes: [(orderId: String, command: RedisCommand)] = []
            for orderId in orderIds {
                let events = pendingOrders[orderId]!
                guard let (version, state) = current[orderId] else {
                    pendingOrders[orderId] = nil // unreadable: stays pending, then dead-lettered
                    continue
                }
                let fresh = events.filter { $0.event.version > version }
                if fresh.isEmpty {
                    done += events.map(\.id)
                    pendingOrders[orderId] = nil
                    continue
                }
                guard let (newVersion, newState) = try await fold(orderId, from: version, state, fresh.map(\.event)) else {
                    pendingOrders[orderId] = nil // stays pending: claimed again, then dead-lettered
                    continue
                }
                let (changes, guardValue) = projection.changes(for: orderId, from: state, to: newState,
                                                                version: newVersion, in: view)
                let location = projection.guardLocation(of: orderId, in: view)
                writes.append((orderId, changes.command(guardField: location.field, expected: version, guardValue: guardValue)))
            }
            guard !writes.isEmpty else { break }
            let replies = try await log.redis.pipeline(writes.map(\.command))
            if replies.contains(where: { if case .error(let message) = $0 { return FunctionLibrary.isMissing(message) }; return false }) {
                // Redis lost the library: nothing was written; load it and write the batch again.
                try await FunctionLibrary.reload(on: log.redis)
                continue
            }
            for (write, reply) in zip(writes, replies) {
                guard let parts = reply.array, let kind = parts.first?.string else {
                    Log.error("projector.write_failed", ["projection": P.name, "orderId": write.orderId, "reply": reply])
                    pendingOrders[write.orderId] = nil
                    continue
                }
                if kind == "applied" {
                    let ids = pendingOrders[write.orderId]!.filter { $0.event.version <= (parts[1].int ?? 0) }.map(\.id)
                    done += ids
                    pendingOrders[write.orderId] = nil
                } // "stale": another consumer moved this order on; the next round re-reads it.
            }
        }
        if !done.isEmpty {
            if settings.faultBeforeAck() { throw SimulatedCrash() }
            try await log.redis.send(RedisCommand("XACK", [log.keys.log, group] + done))
        }
    }

    /// Reads the projection's version and state of each order, in one round trip. An order whose
    /// state cannot be read (a key of the wrong type, a record that does not decode) is left out,
    /// so one broken order never holds up the others.
    private func readStates(_ orderIds: [String]) async throws -> [String: (Int, P.State?)] {
        let replies = try await log.redis.pipeline(orderIds.map { projection.readCommand(for: $0, in: view) })
        var states: [String: (Int, P.State?)] = [:]
        for (orderId, reply) in zip(orderIds, replies) {
            do {
                states[orderId] = try projection.parse(reply.orThrow())
            } catch {
                Log.warning("projector.unreadable_state", ["projection": P.name, "orderId": orderId, "error": error])
            }
        }
        return states
    }

    /// Folds `events` (sorted, all newer than `version`) onto `state`. A gap before the first of
    /// them is filled from the order's own stream. Returns nil when an event cannot be read.
    private func fold(_ orderId: String, from version: Int, _ state: P.State?,
                      _ events: [RecordedEvent]) async throws -> (Int, P.State?)? {
        var events = events
        if events[0].version != version + 1 {
            let last = events[events.count - 1].version
            events = try await log.events(of: orderId).filter { $0.version > version && $0.version <= last }
        }
        let (reached, folded, stopped) = projection.fold(events, from: version, state)
        switch stopped {
        case .gap?:
            return nil // the stream itself has a gap: corrupt; the entries stay pending
        case .unreadable(let event, let error)?:
            Log.warning("projector.apply_failed", ["projection": P.name, "orderId": orderId,
                                                    "version": event.version, "error": error])
            // What came before the unreadable event is applied; it stays pending.
            return reached == version ? nil : (reached, folded)
        case nil:
            return (reached, folded)
        }
    }

    // MARK: - Stalled entries

    /// Claims entries pending longer than their backoff (their consumer died, or they failed),
    /// and moves those delivered `maxDeliveries` times to the dead-letter stream.
    ///
    /// XCLAIM is given each entry's own idle threshold, so of several instances that read the
    /// same XPENDING only the first claims an entry (a claim resets its idle time); the others'
    /// XCLAIM finds it too fresh and leaves it, and its delivery count grows once per claim.
    public func claimStalled() async throws {
        try await handle(try await stalledEntries())
    }

    /// What one look at the pending entries found: entries to claim, by idle threshold, and
    /// entries to give up on.
    struct Stalled {
        var claims: [Int64: [String]] = [:]
        var dead: [(id: String, deliveries: Int)] = []
    }

    func stalledEntries() async throws -> Stalled {
        let base = max(1, settings.claimAfter.milliseconds)
        let reply = try await log.redis.send("XPENDING", log.keys.log, group, "IDLE", base, "-", "+", 1000)
        var stalled = Stalled()
        for entry in reply.array ?? [] {
            guard let fields = entry.array, fields.count == 4, let id = fields[0].string,
                  let idle = fields[2].int, let deliveries = fields[3].int else { continue }
            let threshold = base << min(max(deliveries, 1) - 1, 20)
            if deliveries >= settings.maxDeliveries {
                stalled.dead.append((id, deliveries))
            } else if Int64(idle) >= threshold {
                stalled.claims[threshold, default: []].append(id)
            }
        }
        return stalled
    }

    func handle(_ stalled: Stalled) async throws {
        for (id, deliveries) in stalled.dead { try await deadLetter(id, deliveries: deliveries) }
        for (threshold, ids) in stalled.claims.sorted(by: { $0.key < $1.key }) {
            let claimed = try await log.redis.send(RedisCommand("XCLAIM", [log.keys.log, group, settings.consumer, String(threshold)] + ids))
            let entries = try await LogEntry.entries(of: claimed, in: log)
            if !entries.isEmpty { try await process(entries) }
        }
    }

    /// Moves one entry to the dead-letter stream with why it failed, in one atomic call that does
    /// nothing if the entry is no longer pending (another instance dead-lettered or applied it).
    private func deadLetter(_ id: String, deliveries: Int) async throws {
        let original = try await log.redis.send("XRANGE", log.keys.log, id, id)
        let error: String
        switch (try await LogEntry.entries(of: original, in: log)).first?.event {
        case .success(let event):
            do { _ = try OrderEventCoding.decode(type: event.type, data: event.data); error = "could not be applied" }
            catch let decodeError { error = "\(decodeError)" }
        case .failure(let readError): error = "\(readError)"
        case nil: error = "the entry is gone from the log"
        }
        let written = try await FunctionLibrary.call(RedisCommand("FCALL", "orders_dead_letter", 3, log.keys.log, log.keys.deadLetter,
                                                                  log.keys.deadLetterCounts, FunctionLibrary.version, group, id,
                                                                  P.name, deliveries, error, Timestamp.now().description), on: log.redis)
        if written.int == 1 {
            Log.error("projector.dead_lettered", ["projection": P.name, "logId": id, "attempts": deliveries, "error": error])
        }
    }
}

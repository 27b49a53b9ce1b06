import Foundation
import RedisClient
import Synchronization

/// Rebuilds read models without downtime.
///
/// - `rebuild`: builds a new generation of each projection beside the live one. It folds the log
///   up to its head in memory (one pass for all projections), writes the result in large
///   pipelines, creates the new generation's consumer group at the head and catches up through
///   it, then switches the live pointer for all of them in one HSET, and deletes the old
///   generation in batches. Queries read the old generation until the switch. A replay that dies
///   leaves the live generation untouched; starting again drops its partial generation first.
/// - `replay(from:)`: every order with an event at or after the time is re-folded from its own
///   stream (from its snapshot when there is one) and its projected state replaced in place with
///   one guarded call per projection; since both read models are per-order functions of the
///   events (the summary is the sum of per-order contributions), the result equals a full rebuild.
/// - `replay(orderId:)`: the same for one order.
///
/// One replay runs at a time per store; its status lives in `orders:{0}:view:replay`.
public final class ReplayService: Sendable {
    public let store: EventStore
    public let repository: OrderRepository
    let generations: LiveGenerations
    let catchUpSettings: ProjectorSettings
    /// Fault injection for crash tests: when it returns true for the phase a rebuild enters, the
    /// rebuild stops with `SimulatedCrash` and, like a killed process, cleans nothing up.
    let faultAt: @Sendable (ReplayStatus.Phase) async -> Bool
    /// Between destroying an old generation's consumer group and deleting its keys: long enough
    /// for a projector of that generation to finish the batch it is on (a blocked read plus one
    /// batch), so no write lands in a generation after its keys were deleted.
    let dropGrace: Duration
    static let pageSize = 5000
    var statusKey: String { "\(store.keys.namespace):{\(store.keys.partition)}:view:replay" }

    public init(repository: OrderRepository, consumer: String = "replay",
                dropGrace: Duration = .seconds(3),
                faultAt: @escaping @Sendable (ReplayStatus.Phase) async -> Bool = { _ in false }) {
        self.store = repository.store
        self.repository = repository
        self.generations = LiveGenerations(store: repository.store)
        self.catchUpSettings = ProjectorSettings(consumer: consumer, batchSize: 1000, block: .milliseconds(100))
        self.faultAt = faultAt
        self.dropGrace = dropGrace
    }

    public struct Cancelled: Error, CustomStringConvertible {
        public var description: String { "the replay was cancelled" }
    }

    public struct AlreadyRunning: Error, CustomStringConvertible {
        public let status: ReplayStatus
        public var description: String { "replay \(status.id) is running (\(status.phase.rawValue), \(status.done)/\(status.total))" }
    }

    // MARK: - Status and control

    public func status() async throws -> ReplayStatus? {
        ReplayStatus(try await store.redis.send("HGETALL", statusKey))
    }

    /// Asks the running replay to stop; it leaves the live generation as it was.
    public func cancel() async throws {
        try await store.redis.send("HSET", statusKey, "cancel", "1")
    }

    /// Claims the replay slot, or throws `AlreadyRunning`. A replay whose heartbeat stopped is
    /// taken over: its partial generations are dropped first.
    private func begin(kind: String, projections: [String], generations: [Int], from: String?, orderId: String?) async throws -> ReplayStatus {
        if let previous = try await status(), !previous.phase.isFinished {
            if previous.isAlive { throw AlreadyRunning(status: previous) }
            Log.warning("replay.abandoned", ["id": previous.id, "phase": previous.phase.rawValue])
            try await dropPartial(previous)
        }
        let now = Timestamp.now()
        let status = ReplayStatus(id: UUID().uuidString.prefix(8).lowercased(), kind: kind, projections: projections,
                                  generations: generations, from: from, orderId: orderId, phase: .reading, done: 0,
                                  total: 0, startedAt: now, heartbeat: now, error: nil)
        try await store.redis.send(RedisCommand("HSET", [statusKey] + status.fields))
        return status
    }

    /// Records progress and the heartbeat; throws `Cancelled` when a cancel was requested.
    private func checkpoint(_ status: inout ReplayStatus) async throws {
        if await faultAt(status.phase) { throw SimulatedCrash() }
        status.heartbeat = .now()
        let replies = try await store.redis.pipeline([
            RedisCommand("HSET", statusKey, "phase", status.phase.rawValue, "done", status.done, "total", status.total,
                         "heartbeat", status.heartbeat.description),
            RedisCommand("HGET", statusKey, "cancel"),
        ])
        if replies[1].string == "1" { throw Cancelled() }
    }

    private func finish(_ status: inout ReplayStatus, _ phase: ReplayStatus.Phase, error: String? = nil) async throws {
        status.phase = phase
        status.error = error
        try await store.redis.send("HSET", statusKey, "phase", phase.rawValue, "error", error ?? "",
                                   "done", status.done, "heartbeat", Timestamp.now().description)
    }

    // MARK: - Full rebuild

    /// Rebuilds `projections` (names) into new generations and switches to them.
    public func rebuild(_ projections: [String]) async throws {
        let chosen = Array(Set(projections)).sorted()
        guard !chosen.isEmpty, chosen.allSatisfy({ [OrderProjection.name, SummaryProjection.name].contains($0) }) else {
            throw QueryHandler.Failure.invalid("projection must be order, summary or all")
        }
        var targets: [any RebuildTarget] = []
        for name in chosen {
            let generation = try await generations.next()
            targets.append(name == OrderProjection.name
                ? Rebuild(OrderProjection(), store: store, generation: generation, settings: catchUpSettings)
                : Rebuild(SummaryProjection(), store: store, generation: generation, settings: catchUpSettings))
        }
        var status = try await begin(kind: "rebuild", projections: chosen, generations: targets.map(\.generation),
                                     from: nil, orderId: nil)
        Log.info("replay.started", ["id": status.id, "kind": "rebuild", "projections": chosen.joined(separator: ","),
                                    "generations": targets.map { "g\($0.generation)" }.joined(separator: ",")])
        do {
            try await runRebuild(targets, &status)
            try await finish(&status, .done)
            Log.info("replay.finished", ["id": status.id, "events": status.done])
        } catch is SimulatedCrash {
            throw SimulatedCrash() // a dead process cleans nothing up
        } catch {
            try? await dropPartial(status)
            let cancelled = error is Cancelled
            try? await finish(&status, cancelled ? .cancelled : .failed, error: cancelled ? nil : "\(error)")
            Log.warning(cancelled ? "replay.cancelled" : "replay.failed", ["id": status.id, "error": error])
            throw error
        }
    }

    private func runRebuild(_ targets: [any RebuildTarget], _ status: inout ReplayStatus) async throws {
        var phaseStarted = ContinuousClock.now
        func phaseDone(_ phase: String) {
            let elapsed = ContinuousClock.now - phaseStarted
            Log.info("replay.phase", ["id": status.id, "phase": phase,
                                      "ms": elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000])
            phaseStarted = .now
        }
        // 1. Fold the log up to its head, in memory.
        let head = try await store.lastPosition()
        status.total = try await store.redis.send("XLEN", store.keys.log).int ?? 0
        var cursor: LogPosition?
        // The next page is read while this one is folded; events are decoded once for all
        // projections, which fold side by side.
        var page = head == nil ? [] : try await store.readLog(after: nil, limit: Self.pageSize)
        while let head, let last = page.last {
            let current = page.filter { $0.position <= head }
            cursor = last.position
            let reading: Task<[RecordedEvent], any Error> = Task { [store, cursor] in
                last.position >= head ? [] : try await store.readLog(after: cursor, limit: Self.pageSize)
            }
            let decoded = current.map { DecodedEvent(recorded: $0, event: try? OrderEventCoding.decode(type: $0.type, data: $0.data)) }
            await withTaskGroup(of: Void.self) { group in
                for target in targets { group.addTask { target.fold(decoded) } }
            }
            status.done += current.count
            try await checkpoint(&status)
            page = try await reading.value
        }
        phaseDone("reading")
        // 2. Write the new generations, side by side.
        status.phase = .writing
        try await checkpoint(&status)
        let writing = status
        try await withThrowingTaskGroup(of: Void.self) { group in
            for target in targets {
                group.addTask {
                    var progress = writing
                    try await target.write(redis: self.store.redis) { try await self.checkpoint(&progress) }
                }
            }
            try await group.waitForAll()
        }
        phaseDone("writing")
        // 3. Catch up through each new generation's consumer group, from the head on.
        status.phase = .catchingUp
        try await checkpoint(&status)
        for target in targets { try await target.createGroup(at: head) }
        while true {
            let last = try await store.lastPosition()
            var behind = false
            for target in targets where try await !target.caughtUp(to: last) {
                behind = true
                try await target.step()
            }
            try await checkpoint(&status)
            if !behind { break }
        }
        phaseDone("catching-up")
        // 4. Switch every rebuilt projection at once, then drop the old generations.
        status.phase = .switching
        try await checkpoint(&status)
        var old: [(String, Int)] = []
        for target in targets { old.append((target.name, try await generations.live(target.name))) }
        try await generations.switchTo(targets.map { ($0.name, $0.generation, $0.schema) })
        Log.info("replay.switched", ["id": status.id, "to": targets.map { "\($0.name):g\($0.generation)" }.joined(separator: ",")])
        status.phase = .cleaning
        try? await checkpoint(&status)
        for (name, generation) in old where !targets.contains(where: { $0.name == name && $0.generation == generation }) {
            try await dropGeneration(ViewKeys(keys: store.keys, projection: name, generation: generation))
        }
        phaseDone("cleaning")
    }

    /// Deletes a generation: first its consumer group (its projectors stop), then, after
    /// `dropGrace`, its keys in batches (SCAN + UNLINK, never one blocking call).
    func dropGeneration(_ view: ViewKeys) async throws {
        let destroyed = try? await store.redis.send("XGROUP", "DESTROY", store.keys.log,
                                                    ProjectionMonitor.group(view.projection, generation: view.generation))
        if destroyed?.int == 1 { try await Task.sleep(for: dropGrace) }
        var cursor = "0"
        repeat {
            let reply = try await store.redis.send("SCAN", cursor, "MATCH", view.prefix + "*", "COUNT", 1000)
            cursor = reply.array?.first?.string ?? "0"
            let keys = (reply.array?.dropFirst().first?.array ?? []).compactMap(\.string)
            if !keys.isEmpty { try await store.redis.send(RedisCommand("UNLINK", keys)) }
        } while cursor != "0"
    }

    /// Drops the generations a rebuild filled but never switched to.
    private func dropPartial(_ status: ReplayStatus) async throws {
        guard status.kind == "rebuild", status.phase != .cleaning else { return }
        for (name, generation) in zip(status.projections, status.generations) {
            if try await generations.live(name) != generation {
                try await dropGeneration(ViewKeys(keys: store.keys, projection: name, generation: generation))
            }
        }
    }

    // MARK: - In place: from a time, or one order

    /// Re-projects every order with an event at or after `time`; returns how many orders.
    @discardableResult
    public func replay(from time: Timestamp) async throws -> Int {
        var status = try await begin(kind: "from", projections: [OrderProjection.name, SummaryProjection.name],
                                     generations: [], from: time.description, orderId: nil)
        do {
            var orderIds: [String] = []
            var seen = Set<String>()
            var cursor: LogPosition?
            while true {
                let page = cursor == nil ? try await store.readLog(from: time, limit: 5000)
                                         : try await store.readLog(after: cursor, limit: 5000)
                guard let last = page.last else { break }
                for event in page where seen.insert(event.orderId).inserted { orderIds.append(event.orderId) }
                cursor = last.position
                try await checkpoint(&status)
            }
            status.total = orderIds.count
            try await reproject(orderIds, &status)
            try await finish(&status, .done)
            return orderIds.count
        } catch {
            let cancelled = error is Cancelled
            try? await finish(&status, cancelled ? .cancelled : .failed, error: cancelled ? nil : "\(error)")
            throw error
        }
    }

    /// Re-projects one order from its snapshot (when there is one) and later events.
    public func replay(orderId: String) async throws {
        guard Identifier.isValid(orderId), try await store.version(of: orderId) > 0 else {
            throw QueryHandler.Failure.notFound("order \(orderId.prefix(80)) does not exist")
        }
        var status = try await begin(kind: "order", projections: [OrderProjection.name, SummaryProjection.name],
                                     generations: [], from: nil, orderId: orderId)
        status.total = 1
        do {
            try await reproject([orderId], &status)
            try await finish(&status, .done)
        } catch {
            try? await finish(&status, .failed, error: "\(error)")
            throw error
        }
    }

    private func reproject(_ orderIds: [String], _ status: inout ReplayStatus) async throws {
        let order = ViewKeys(keys: store.keys, projection: OrderProjection.name, generation: try await generations.live(OrderProjection.name))
        let summary = ViewKeys(keys: store.keys, projection: SummaryProjection.name, generation: try await generations.live(SummaryProjection.name))
        for orderId in orderIds {
            // One load serves both projections; a projection whose order moved on reloads alone.
            let aggregate = try await repository.load(orderId)
            try await replace(orderId, OrderProjection(), order, from: aggregate)
            try await replace(orderId, SummaryProjection(), summary, from: aggregate)
            status.done += 1
            if status.done % 100 == 0 || status.done == orderIds.count { try await checkpoint(&status) }
        }
    }

    /// Replaces one order's projected state with a fresh fold, guarded: if a live projector moves
    /// the order on meanwhile, fold again.
    private func replace<P: Projection>(_ orderId: String, _ projection: P, _ view: ViewKeys,
                                        from loaded: OrderAggregate) async throws {
        var aggregate = loaded
        for attempt in 0..<10 {
            if attempt > 0 { aggregate = try await repository.load(orderId) }
            let fresh = projection.state(from: aggregate)
            let (version, current) = try projection.parse(try await store.redis.send(projection.readCommand(for: orderId, in: view)))
            if version > aggregate.version { continue } // new events since the load: fold again
            let (changes, guardValue) = projection.changes(for: orderId, from: current, to: fresh,
                                                           version: aggregate.version, in: view)
            let location = projection.guardLocation(of: orderId, in: view)
            let reply = try await store.redis.send(changes.command(guardField: location.field, expected: version, guardValue: guardValue))
            if reply.array?.first?.string == "applied" { return }
        }
        throw EventStoreError.corrupt("order \(orderId) kept changing while it was replayed")
    }
}

/// A log entry with its domain event decoded (nil when it cannot be read), shared by the
/// projections a rebuild folds.
struct DecodedEvent: Sendable {
    let recorded: RecordedEvent
    let event: OrderEvent?
}

/// One projection being rebuilt into a new generation (type-erased so one log pass feeds all).
protocol RebuildTarget: Sendable {
    var name: String { get }
    var schema: Int { get }
    var generation: Int { get }
    func fold(_ events: [DecodedEvent])
    func write(redis: RedisClient, checkpoint: () async throws -> Void) async throws
    func createGroup(at position: LogPosition?) async throws
    func caughtUp(to position: LogPosition?) async throws -> Bool
    func step() async throws
}

/// Folds each order's final state in memory (the log is read in order from its start, so no
/// gap ever needs an order's history), then writes each order once: the changes from nothing to
/// its final state, through a `GenerationWriter` (where the summary's counters add up).
final class Rebuild<P: Projection>: RebuildTarget {
    let projector: Projector<P>
    private let states = Mutex<[String: (version: Int, state: P.State?)]>([:])

    init(_ projection: P, store: EventStore, generation: Int, settings: ProjectorSettings) {
        projector = Projector(projection: projection, store: store, generation: generation, settings: settings)
    }

    var name: String { P.name }
    var schema: Int { P.schemaVersion }
    var generation: Int { projector.view.generation }

    func fold(_ events: [DecodedEvent]) {
        let projection = projector.projection
        states.withLock { states in
            for decoded in events {
                let event = decoded.recorded
                let (version, state) = states[event.orderId] ?? (0, nil)
                // An event that cannot be read stops its order where it is, as in the live projector.
                guard event.version == version + 1, let domain = decoded.event else { continue }
                states[event.orderId] = (event.version, projection.apply(domain, of: event, to: state))
            }
        }
    }

    func write(redis: RedisClient, checkpoint: () async throws -> Void) async throws {
        let writer = GenerationWriter(redis: redis)
        let view = projector.view
        let projection = projector.projection
        var written = 0
        for (orderId, entry) in states.withLock({ $0 }) {
            let (changes, guardValue) = projection.changes(for: orderId, from: nil, to: entry.state, version: entry.version, in: view)
            try await writer.add(changes, guardLocation: projection.guardLocation(of: orderId, in: view), guardValue: guardValue)
            written += 1
            if written % 5000 == 0 { try await checkpoint() }
        }
        try await writer.finish()
    }

    func createGroup(at position: LogPosition?) async throws {
        try await projector.createGroup(at: position?.description ?? "0")
    }

    func caughtUp(to position: LogPosition?) async throws -> Bool {
        guard let position else { return true }
        return try await ProjectionMonitor(store: projector.store).hasPassed(position, projection: P.name, generation: generation)
    }

    func step() async throws {
        try await projector.step()
        try await projector.claimStalled()
    }
}

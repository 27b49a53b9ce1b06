import Foundation
import RedisClient
import OrdersDomain
import OrdersEventLog

/// Rebuilds read models without downtime.
///
/// - a full rebuild builds a new generation of each projection beside the live one. It folds the
///   log up to its head in memory (one pass for all projections), writes the result in large
///   pipelines, creates the new generation's consumer group at the head and catches up through
///   it, then switches the live pointer for all of them in one HSET, and deletes the old
///   generation in batches. Queries read the old generation until the switch.
/// - `from(time)`: every order with an event at or after the time is re-folded from its own
///   stream (from its snapshot when there is one) and its projected state replaced in place with
///   one guarded call per projection; since both read models are per-order functions of the
///   events (the summary is the sum of per-order contributions), the result equals a full rebuild.
/// - `order(id)`: the same for one order.
///
/// One replay runs at a time per log: it claims the slot `orders:{0}:view:replay` atomically
/// (`ReplaySlot`). The status records the generations a rebuild fills and those it replaces, so
/// whatever a crash interrupts (a partial generation before the switch, an old one after it) is
/// dropped by the next replay, or by `recoverAbandoned` when a service starts.
public final class ReplayService: Sendable {
    public let log: EventLog
    /// The read models a replay can rebuild, and an in-place replay re-projects.
    public let projections: [any Projection]
    let generations: LiveGenerations
    let catchUpSettings: ProjectorSettings
    let slot: ReplaySlot
    /// Between destroying an old generation's consumer group and deleting its keys: long enough
    /// for a projector of that generation to finish the batch it is on (a blocked read plus one
    /// batch), so no write lands in a generation after its keys were deleted.
    let dropGrace: Duration
    static let pageSize = 5000
    var statusKey: String { slot.key }

    public convenience init(log: EventLog, projections: [any Projection] = Projections.standard, consumer: String = "replay",
                            dropGrace: Duration = .seconds(3)) {
        self.init(log: log, projections: projections, consumer: consumer, dropGrace: dropGrace, crashPoints: .none)
    }

    /// With crash points for this package's crash tests (`.replayPhase`: the replay stops for
    /// good as it enters that phase, like a killed process).
    package init(log: EventLog, projections: [any Projection] = Projections.standard, consumer: String = "replay",
                 dropGrace: Duration = .seconds(3), crashPoints: CrashPoints) {
        self.log = log
        self.projections = projections
        self.generations = LiveGenerations(log: log, projections: projections)
        self.catchUpSettings = ProjectorSettings(consumer: consumer, batchSize: 1000, block: .milliseconds(100))
        self.slot = ReplaySlot(redis: log.redis, key: log.keys.prefix + "view:replay", crashPoints: crashPoints)
        self.dropGrace = dropGrace
    }

    /// What to replay.
    public enum Request: Sendable, Equatable {
        /// Full rebuilds of these projections (names) into new generations.
        case rebuild([String])
        /// Every order with an event at or after the time, in place.
        case from(Timestamp)
        /// One order, in place.
        case order(String)
    }

    // MARK: - Status and control

    public func status() async throws -> ReplayStatus? {
        try await slot.status()
    }

    /// Asks the running replay to stop; before its switch it leaves the live generation as it was.
    public func cancel() async throws {
        try await slot.requestCancel()
    }

    // MARK: - Starting

    /// Checks the request, claims the slot and starts the replay in the background; returns its
    /// status at once. Whatever stops it from starting is thrown here (a `ReadSideError`:
    /// invalid, not found, another replay running; or a storage error); how it ends is in
    /// `status()` and the log.
    public func start(_ request: Request) async throws -> ReplayStatus {
        let claimed = try await claim(request)
        Task { [self] in _ = try? await run(claimed) }
        return claimed.status
    }

    /// Runs a replay to its end (tests, `--auto-rebuild`, benchmarks).
    public func rebuild(_ projections: [String]) async throws {
        try await run(try await claim(.rebuild(projections)))
    }

    /// Re-projects every order with an event at or after `time`; returns how many orders.
    @discardableResult
    public func replay(from time: Timestamp) async throws -> Int {
        try await run(try await claim(.from(time)))
    }

    /// Re-projects one order from its snapshot (when there is one) and later events.
    public func replay(orderId: String) async throws {
        try await run(try await claim(.order(orderId)))
    }

    /// A claimed replay: its status, and for a rebuild the targets it fills.
    struct Claimed: Sendable {
        var status: ReplayStatus
        let request: Request
        let targets: [any RebuildTarget]
    }

    private func claim(_ request: Request) async throws -> Claimed {
        var status = ReplayStatus.starting(kind: "", projections: projections.names)
        var targets: [any RebuildTarget] = []
        switch request {
        case .rebuild(let names):
            let chosen = Array(Set(names)).sorted()
            guard !chosen.isEmpty, chosen.allSatisfy(projections.names.contains) else {
                throw ReadSideError.invalid("projection must be one of \(projections.names.joined(separator: ", ")) or all")
            }
            for name in chosen {
                let generation = try await generations.next()
                targets.append(projections.named(name)!.rebuildTarget(log: log, generation: generation, settings: catchUpSettings))
            }
            status.kind = "rebuild"
            status.projections = chosen
            status.generations = targets.map(\.generation)
            let live = try await generations.live(chosen)
            status.replaced = chosen.map { live[$0] ?? 1 }
        case .from(let time):
            status.kind = "from"
            status.from = time.description
        case .order(let orderId):
            guard Identifier.isValid(orderId), try await log.version(of: orderId) > 0 else {
                throw ReadSideError.notFound("order \(orderId.prefix(80)) does not exist")
            }
            status.kind = "order"
            status.orderId = orderId
            status.total = 1
        }
        // Refused when another replay runs: the generation numbers handed out above stay unused.
        try await claimSlot(status)
        Log.info("replay.started", ["id": status.id, "kind": status.kind, "projections": status.projections.joined(separator: ","),
                                    "generations": status.generations.map { "g\($0)" }.joined(separator: ",")])
        return Claimed(status: status, request: request, targets: targets)
    }

    // MARK: - Running

    @discardableResult
    private func run(_ claimed: Claimed) async throws -> Int {
        var status = claimed.status
        do {
            var count = 0
            switch claimed.request {
            case .rebuild:
                try await runRebuild(claimed.targets, &status)
            case .from(let time):
                count = try await replayInPlace(try await ordersChanged(since: time, &status), &status)
            case .order(let orderId):
                count = try await replayInPlace([orderId], &status)
            }
            if status.phase != .cleaning || status.error == nil { try await slot.finish(&status, .done) }
            Log.info("replay.finished", ["id": status.id, "done": status.done])
            return count
        } catch {
            try? await dropLeftovers(of: status)
            let cancelled = (error as? ReadSideError)?.code == .replayCancelled
            // The status is shown to clients: it names the failure, the log has its details.
            try? await slot.finish(&status, cancelled ? .cancelled : .failed,
                                   error: cancelled ? nil : "the replay failed; see the server's log for replay \(status.id)")
            Log.warning(cancelled ? "replay.cancelled" : "replay.failed", ["id": status.id, "error": error])
            throw error
        }
    }
}

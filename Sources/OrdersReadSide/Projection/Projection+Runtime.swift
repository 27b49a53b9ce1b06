import OrdersDomain
import OrdersEventLog
import RedisClient

/// What the runtime does with any projection of the list, without naming it: each operation
/// opens the projection's concrete type once and runs the generic machinery for it.
/// Why a fold stopped before the end of the events it was given.
public enum FoldStop: Sendable {
    /// The next event was not the next version (a gap in what was read).
    case gap(expected: Int, found: Int)
    /// The next event could not be read (unknown type, malformed data); it stays unapplied.
    case unreadable(RecordedEvent, any Error)
}

extension Projection {
    /// One event onto the state at `version`: the version and state after it, or nil when it is
    /// not the next version or could not be read (`decoded` is nil).
    public func step(_ event: RecordedEvent, decoded: OrderEvent?, from version: Int,
                     _ state: State?) -> (version: Int, state: State?)? {
        guard event.version == version + 1, let decoded else { return nil }
        return (event.version, apply(decoded, of: event, to: state))
    }

    /// The one per-order fold of the read side: `events` of one order, oldest first, onto the
    /// state at `version`, each the next version and readable; it stops at the first that is
    /// not. Returns the version reached, the state there, and why it stopped early (nil when
    /// every event was folded).
    public func fold(_ events: [RecordedEvent], from version: Int, _ state: State?)
        -> (version: Int, state: State?, stopped: FoldStop?) {
        var current = version
        var state = state
        for event in events {
            guard event.version == current + 1 else { return (current, state, .gap(expected: current + 1, found: event.version)) }
            let decoded: OrderEvent
            do {
                decoded = try OrderEventCoding.decode(type: event.type, data: event.data)
            } catch {
                return (current, state, .unreadable(event, error))
            }
            state = apply(decoded, of: event, to: state)
            current = event.version
        }
        return (current, state, nil)
    }

    public var name: String { Self.name }
    public var schemaVersion: Int { Self.schemaVersion }

    /// Keeps a projector on the live generation until the task is cancelled (`orders serve`).
    public func supervise(log: EventLog, settings: ProjectorSettings) async {
        await ProjectionSupervisor(projection: self, log: log, settings: settings).run()
    }

    /// A target that rebuilds this projection into `generation`.
    func rebuildTarget(log: EventLog, generation: Int, settings: ProjectorSettings) -> any RebuildTarget {
        Rebuild(self, log: log, generation: generation, settings: settings)
    }

    /// Applies the dead letters of `letter`'s order again to the live generation; true when the
    /// order now reaches the letter's event. `redis`: a dedicated connection (for the fence).
    func redrive(_ letter: DeadLetters.Letter, log: EventLog, generation: Int, on redis: RedisClient) async throws -> Bool {
        try await DeadLetters(log: log).redrive(letter, with: self, generation: generation, on: redis)
    }

    /// Re-derives one order's part of `view` from its events up to the checkpoint, as an in-place
    /// replay does. Only a projection that can read its per-order state has anything to repair.
    /// `redis`: a dedicated connection (for the fence).
    func replaceState(of orderId: String, in view: ViewKeys, log: EventLog, on redis: RedisClient) async throws {
        guard let repairable = self as? any RepairableProjection else { return }
        try await repairable.repair(orderId, in: view, log: log, on: redis)
    }
}

extension RepairableProjection {
    /// Rewrites one order's part of the model: from what it holds now (read back) to the fold of
    /// the order's events up to the checkpoint, fenced by the checkpoint.
    func repair(_ orderId: String, in view: ViewKeys, log: EventLog, on redis: RedisClient) async throws {
        _ = try await CheckpointFence(view: view, redis: redis).commit(giveUp: "order \(orderId) kept changing while it was replayed") { checkpoint in
            let held = try parse(try await redis.send(readCommand(for: orderId, in: view)))
            let events = try await log.events(of: orderId).filter { event in checkpoint.map { event.position <= $0 } ?? false }
            var batch = ProjectionBatch()
            write(orderId, from: held, to: fold(events, from: 0, nil).state, into: &batch, in: view)
            return try await batch.resolved(on: redis).map(\.command)
        }
    }
}

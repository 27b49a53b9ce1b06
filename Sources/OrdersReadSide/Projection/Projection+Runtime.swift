import OrdersDomain
import OrdersEventLog
import RedisClient

/// An event as stored and its domain event decoded (or why it could not be), decoded once for
/// every projection that folds it.
public struct DecodedEvent: Sendable {
    public let recorded: RecordedEvent
    public let event: Result<OrderEvent, any Error>

    public init(_ recorded: RecordedEvent) {
        self.recorded = recorded
        self.event = Result { try OrderEventCoding.decode(type: recorded.type, data: recorded.data) }
    }
}

/// Why a fold stopped before the end of the events it was given.
public enum FoldStop: Sendable {
    /// The next event was not the next version (a gap in what was read).
    case gap(expected: Int, found: Int)
    /// The next event could not be read (unknown type, malformed data); it stays unapplied.
    case unreadable(RecordedEvent, any Error)
}

extension Projection {
    /// The one per-order fold of the read side: `events` of one order, oldest first, onto the
    /// state at `version`, each the next version and readable; it stops at the first that is
    /// not. Returns the version reached, the state there, and why it stopped early (nil when
    /// every event was folded).
    public func fold(_ events: [RecordedEvent], from version: Int, _ state: State?)
        -> (version: Int, state: State?, stopped: FoldStop?) {
        fold(decoded: events.map(DecodedEvent.init), from: version, state)
    }

    /// The same fold over events decoded already (once for every projection that folds them).
    public func fold(decoded events: [DecodedEvent], from version: Int, _ state: State?)
        -> (version: Int, state: State?, stopped: FoldStop?) {
        var current = version
        var state = state
        for event in events {
            let recorded = event.recorded
            guard recorded.version == current + 1 else { return (current, state, .gap(expected: current + 1, found: recorded.version)) }
            switch event.event {
            case .success(let decoded):
                state = apply(decoded, of: recorded, to: state)
                current = recorded.version
            case .failure(let error):
                return (current, state, .unreadable(recorded, error))
            }
        }
        return (current, state, nil)
    }

    public var name: String { Self.name }
    public var schemaVersion: Int { Self.schemaVersion }

    /// A projector of this projection's `generation`, for a group of any projections.
    func projector(log: EventLog, generation: Int, settings: ProjectorSettings, connection: RedisClient) -> any BatchMember {
        Projector(projection: self, log: log, generation: generation, settings: settings, connection: connection)
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

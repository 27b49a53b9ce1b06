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

    /// Applies a dead letter's log entry again to the live generation; true when it stuck.
    func redrive(_ letter: DeadLetters.Letter, log: EventLog, generation: Int, settings: ProjectorSettings) async throws -> Bool {
        try await DeadLetters(log: log).redrive(letter, with: Projector(projection: self, log: log, generation: generation,
                                                                         settings: settings))
    }

    /// Replaces one order's projected state in `view` with a fresh fold of `loaded`, guarded: if
    /// a live projector moves the order on meanwhile, it loads the order again and folds again.
    func replaceState(of orderId: String, from loaded: OrderAggregate, in view: ViewKeys, log: EventLog,
                      loader: OrderLoader) async throws {
        var aggregate = loaded
        for attempt in 0..<10 {
            if attempt > 0 { aggregate = try await loader.load(orderId) }
            let fresh = state(from: aggregate)
            let (version, current) = try parse(try await log.redis.send(readCommand(for: orderId, in: view)))
            if version > aggregate.version { continue } // new events since the load: fold again
            let (changes, guardValue) = changes(for: orderId, from: current, to: fresh, version: aggregate.version, in: view)
            let location = guardLocation(of: orderId, in: view)
            let reply = try await log.redis.send(changes.command(guardField: location.field, expected: version, guardValue: guardValue))
            if reply.array?.first?.string == "applied" { return }
        }
        throw EventStoreError.corrupt("order \(orderId) kept changing while it was replayed")
    }
}

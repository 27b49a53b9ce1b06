import OrdersDomain
import OrdersEventLog
import RedisClient

/// What the runtime does with any projection of the list, without naming it: each operation
/// opens the projection's concrete type once and runs the generic machinery for it.
extension Projection {
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

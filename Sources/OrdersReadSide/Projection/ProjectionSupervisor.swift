import OrdersDomain
import OrdersEventLog
/// Keeps a projector running on the live generation of its projection: when a rebuild switches
/// the live pointer, the projector of the old generation stops after its batch and one of the
/// new generation starts (its consumer group was created and caught up by the rebuild).
public struct ProjectionSupervisor<P: Projection>: Sendable {
    public let projection: P
    public let log: EventLog
    public let settings: ProjectorSettings
    /// How often the live pointer is checked.
    public let checkEvery: Duration

    public init(projection: P, log: EventLog, settings: ProjectorSettings, checkEvery: Duration = .seconds(1)) {
        self.projection = projection
        self.log = log
        self.settings = settings
        self.checkEvery = checkEvery
    }

    /// Runs until the task is cancelled. The projector is a child task, so it runs where this
    /// task runs (on its event loop, in `orders serve`).
    public func run() async {
        let generations = LiveGenerations(log: log)
        while !Task.isCancelled {
            guard let generation = try? await generations.live(P.name) else {
                try? await Task.sleep(for: checkEvery)
                continue
            }
            let projector = Projector(projection: projection, log: log, generation: generation, settings: settings)
            await withDiscardingTaskGroup { group in
                group.addTask { await projector.run() }
                while !Task.isCancelled {
                    try? await Task.sleep(for: checkEvery)
                    if let live = try? await generations.live(P.name), live != generation {
                        Log.info("projector.switched", ["projection": P.name, "from": "g\(generation)", "to": "g\(live)"])
                        break
                    }
                }
                group.cancelAll()
            }
        }
    }
}

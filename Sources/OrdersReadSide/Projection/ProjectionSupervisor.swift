import OrdersDomain
import OrdersEventLog
/// Keeps one `ProjectorGroup` running on the live generation of every projection: when a
/// rebuild switches a live pointer, the group stops after its batch and one on the new live
/// generations starts (the new consumer group was created and caught up by the rebuild).
public struct ProjectionSupervisor: Sendable {
    public let projections: [any Projection]
    public let log: EventLog
    public let settings: ProjectorSettings
    /// How often the live pointers are checked.
    public let checkEvery: Duration

    public init(projections: [any Projection] = Projections.standard, log: EventLog, settings: ProjectorSettings,
                checkEvery: Duration = .seconds(1)) {
        self.projections = projections
        self.log = log
        self.settings = settings
        self.checkEvery = checkEvery
    }

    /// Runs until the task is cancelled. The group is a child task, so it runs where this task
    /// runs (on its event loop, in `orders serve`).
    public func run() async {
        let generations = LiveGenerations(log: log, projections: projections)
        while !Task.isCancelled {
            guard let live = try? await generations.live(projections.names) else {
                try? await Task.sleep(for: checkEvery)
                continue
            }
            let group = ProjectorGroup(projections: projections, generations: live, log: log, settings: settings)
            await withDiscardingTaskGroup { tasks in
                tasks.addTask { await group.run() }
                while !Task.isCancelled {
                    try? await Task.sleep(for: checkEvery)
                    if let now = try? await generations.live(projections.names), now != live {
                        Log.info("projector.switched", ["from": Self.describe(live), "to": Self.describe(now)])
                        break
                    }
                }
                tasks.cancelAll()
            }
        }
    }

    private static func describe(_ generations: [String: Int]) -> String {
        generations.sorted { $0.key < $1.key }.map { "\($0.key):g\($0.value)" }.joined(separator: ",")
    }
}

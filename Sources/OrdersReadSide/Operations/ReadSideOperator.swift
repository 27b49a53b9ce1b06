import OrdersDomain
import OrdersEventLog

/// What an operator asks of the read side, for every projection of the list: how each one is
/// doing, and applying dead letters again. (Replays are `ReplayService`'s.)
public struct ReadSideOperator: Sendable {
    public let log: EventLog
    public let projections: [any Projection]

    public init(log: EventLog, projections: [any Projection] = Projections.standard) {
        self.log = log
        self.projections = projections
    }

    /// One projection's consumer group on its live generation, and whether that generation was
    /// built with this build's schema.
    public struct Report: Sendable, Hashable {
        public var status: ProjectionStatus
        /// The schema the live generation was built with (this build's until recorded).
        public var builtSchema: Int
        public var currentSchema: Int
        public var needsRebuild: Bool { builtSchema != currentSchema }
    }

    public func reports() async throws -> [Report] {
        let generations = LiveGenerations(log: log, projections: projections)
        let live = try await generations.live(projections.names)
        let monitor = ProjectionMonitor(log: log)
        var reports: [Report] = []
        for projection in projections {
            let status = try await monitor.status(projection: projection.name, generation: live[projection.name] ?? 1)
            let built = try await generations.schema(projection.name)
            reports.append(Report(status: status, builtSchema: built ?? projection.schemaVersion, currentSchema: projection.schemaVersion))
        }
        return reports
    }

    /// Applies dead-lettered entries again (all, or the one named by `id`) to the live generation
    /// of their projection; returns the ids of the letters that stuck and of those that failed.
    public func redrive(only id: String? = nil) async throws -> (redriven: [String], failed: [String]) {
        let letters = try await DeadLetters(log: log).list(limit: 1000).filter { id == nil || $0.id == id }
        if let id, letters.isEmpty { throw ReadSideError.notFound("no dead letter \(id.prefix(40))") }
        let live = try await LiveGenerations(log: log, projections: projections).live(projections.names)
        let redis = log.redis.dedicated() // one connection for every letter's fenced commit
        defer { redis.close() }
        var redriven: [String] = []
        var failed: [String] = []
        for letter in letters {
            guard let projection = projections.named(letter.projection) else {
                failed.append(letter.id) // a projection this build does not have
                continue
            }
            let done = try await projection.redrive(letter, log: log, generation: live[letter.projection] ?? 1, on: redis)
            if done { redriven.append(letter.id) } else { failed.append(letter.id) }
        }
        return (redriven, failed)
    }
}

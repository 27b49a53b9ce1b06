import RedisClient
import OrdersDomain
import OrdersEventLog

/// The live pointer (`orders:{0}:view:live`): which generation of each projection queries read,
/// and the schema version each live generation was built with.
///
///     <projection>          the live generation (1 when unset)
///     <projection>:schema   the projection's schema version when that generation was built
///     generations           the last generation number handed out
public struct LiveGenerations: Sendable {
    public let log: EventLog
    var key: String { ViewKeys.live(log.keys) }

    public init(log: EventLog) { self.log = log }

    public func live(_ projection: String) async throws -> Int {
        try await log.redis.send("HGET", key, projection).int ?? 1
    }

    /// The live generation of both projections, in one round trip.
    public func both() async throws -> (order: Int, summary: Int) {
        let values = try await log.redis.send("HMGET", key, OrderProjection.name, SummaryProjection.name).array ?? []
        return (values.first?.int ?? 1, values.dropFirst().first?.int ?? 1)
    }

    /// Records the schema of generation 1 the first time the service starts on an empty log.
    public func initialize(_ projections: [(name: String, schema: Int)]) async throws {
        for projection in projections {
            try await log.redis.send("HSETNX", key, projection.name + ":schema", projection.schema)
        }
    }

    /// The schema version the live generation was built with (nil before `initialize`).
    public func schema(_ projection: String) async throws -> Int? {
        try await log.redis.send("HGET", key, projection + ":schema").int
    }

    /// Projections whose live generation was built with another schema than this build's:
    /// they need a rebuild (name, built with, current).
    public func schemaMismatches() async throws -> [(projection: String, built: Int, current: Int)] {
        var mismatches: [(String, Int, Int)] = []
        for (name, current) in [(OrderProjection.name, OrderProjection.schemaVersion), (SummaryProjection.name, SummaryProjection.schemaVersion)] {
            if let built = try await schema(name), built != current { mismatches.append((name, built, current)) }
        }
        return mismatches
    }

    /// A generation number never used before by any projection.
    func next() async throws -> Int {
        let reply = try await log.redis.pipeline([
            RedisCommand("HINCRBY", key, "generations", 1),
            RedisCommand("HMGET", key, OrderProjection.name, SummaryProjection.name),
        ])
        let counted = try reply[0].orThrow().int ?? 1
        let highest = (try reply[1].orThrow().array ?? []).compactMap(\.int).max() ?? 1
        if counted > highest { return counted }
        try await log.redis.send("HSET", key, "generations", highest + 1)
        return highest + 1
    }

    /// Makes the given generations live in one HSET: queries move to all of them at once.
    func switchTo(_ generations: [(projection: String, generation: Int, schema: Int)]) async throws {
        var arguments: [String] = [key]
        for entry in generations {
            arguments += [entry.projection, String(entry.generation), entry.projection + ":schema", String(entry.schema)]
        }
        try await log.redis.send(RedisCommand("HSET", arguments))
    }
}

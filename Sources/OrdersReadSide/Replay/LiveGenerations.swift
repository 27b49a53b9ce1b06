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
    public let projections: [any Projection]
    var key: String { ViewKeys.live(log.keys) }

    public init(log: EventLog, projections: [any Projection] = Projections.standard) {
        self.log = log
        self.projections = projections
    }

    public func live(_ projection: String) async throws -> Int {
        try await log.redis.send("HGET", key, projection).int ?? 1
    }

    /// The live generation of each of `names`, in one round trip.
    public func live(_ names: [String]) async throws -> [String: Int] {
        guard !names.isEmpty else { return [:] }
        let values = try await log.redis.send(RedisCommand("HMGET", [key] + names)).array ?? []
        var live: [String: Int] = [:]
        for (index, name) in names.enumerated() { live[name] = values[safe: index]?.int ?? 1 }
        return live
    }

    /// Records the schema of generation 1 of every projection the first time the service
    /// starts on an empty store.
    public func initialize() async throws {
        try await initialize(projections.map { ($0.name, $0.schemaVersion) })
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
        for (name, current) in projections.map({ ($0.name, $0.schemaVersion) }) {
            if let built = try await schema(name), built != current { mismatches.append((name, built, current)) }
        }
        return mismatches
    }

    /// A generation number never used before by any projection.
    func next() async throws -> Int {
        let reply = try await log.redis.pipeline([
            RedisCommand("HINCRBY", key, "generations", 1),
            RedisCommand("HMGET", [key] + projections.names),
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

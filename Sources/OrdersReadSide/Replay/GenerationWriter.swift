import RedisClient
import OrdersDomain
import OrdersEventLog

/// Writes a new, empty generation's content in large pipelines, straight from each order's
/// changes: hash fields, sorted-set and set members are gathered per key into commands of up to
/// `membersPerCommand`, counters (HINCRBY, ZINCRBY) are summed in memory and written once at the
/// end, and one pipeline is in flight while the next is built. Only for a generation nobody else
/// writes yet (a rebuild before its consumer group exists): there are no guards.
final class GenerationWriter {
    let redis: RedisClient
    static let membersPerCommand = 1000
    static let commandsPerPipeline = 1000
    /// Keys with a partial command buffered; past this, every buffer is written out, so memory
    /// stays bounded by the batch, not by the number of orders.
    static let bufferedKeysLimit = 5000

    private var hashFields: [String: [String]] = [:]   // key → field, value, field, value…
    private var zsetMembers: [String: [String]] = [:]  // key → score, member, score, member…
    private var setMembers: [String: [String]] = [:]   // key → member, member…
    private var hashCounters: [String: [String: Int64]] = [:]
    private var zsetCounters: [String: [String: Int64]] = [:]
    /// RANK sums: (ranking, sums hash) → member → exact sum.
    private var rankSums: [RankKeys: [String: Int64]] = [:]
    private struct RankKeys: Hashable { let ranking: String, sums: String }
    /// Sorted sets whose members at or below zero leave (ZREMRANGEBYSCORE -inf 0).
    private var dropsNonPositive: Set<String> = []
    private var commands: [RedisCommand] = []
    private var inFlight: Task<Void, any Error>?

    init(redis: RedisClient) {
        self.redis = redis
    }

    /// Adds one order's writes and its guard field.
    func add(_ changes: ProjectionChanges, guardLocation: (key: String, field: String), guardValue: String) async throws {
        for operation in changes.operations {
            let key = changes.keys[operation.key]
            let arguments = operation.arguments
            switch operation.command {
            case "HSET": try await buffer(.hash, key, arguments)
            case "ZADD": try await buffer(.sortedSet, key, arguments)
            case "SADD": try await buffer(.set, key, arguments)
            case "HINCRBY": hashCounters[key, default: [:]][arguments[0], default: 0] += Int64(arguments[1]) ?? 0
            case "ZINCRBY": zsetCounters[key, default: [:]][arguments[1], default: 0] += Int64(arguments[0]) ?? 0
            case "ZREMRANGEBYSCORE" where arguments == ["-inf", "0"]: dropsNonPositive.insert(key)
            case "RANK":
                guard let index = Int(arguments[0]), changes.keys.indices.contains(index - 1) else {
                    throw ReadSideError.corrupt("a rebuild got a RANK with a bad key index")
                }
                rankSums[RankKeys(ranking: key, sums: changes.keys[index - 1]), default: [:]][arguments[1], default: 0] += Int64(arguments[2]) ?? 0
            default: throw ReadSideError.corrupt("a rebuild writes additions only, but a projection produced \(operation.command)")
            }
        }
        try await buffer(.hash, guardLocation.key, [guardLocation.field, guardValue])
    }

    /// Writes everything still buffered and waits for the last pipeline.
    func finish() async throws {
        // Summed counters land as plain values: the generation is empty, so HSET/ZADD of the sum
        // equals the increments one by one, and a sum of zero is no field at all, as in
        // orders_project.
        for (key, counters) in hashCounters {
            for (field, sum) in counters where sum != 0 { try await buffer(.hash, key, [field, String(sum)]) }
        }
        for (key, counters) in zsetCounters {
            let drop = dropsNonPositive.contains(key)
            for (member, sum) in counters where !(drop && sum <= 0) { try await buffer(.sortedSet, key, [String(sum), member]) }
        }
        for (keys, sums) in rankSums {
            for (member, sum) in sums where sum != 0 {
                try await buffer(.hash, keys.sums, [member, String(sum)])
                try await buffer(.sortedSet, keys.ranking, [String(sum), member])
            }
        }
        hashCounters = [:]
        zsetCounters = [:]
        rankSums = [:]
        emitAll()
        try await flush()
        try await inFlight?.value
        inFlight = nil
    }

    private enum Kind { case hash, sortedSet, set }

    private func buffer(_ kind: Kind, _ key: String, _ pairs: [String]) async throws {
        switch kind {
        case .hash:
            hashFields[key, default: []].append(contentsOf: pairs)
            if hashFields[key]!.count >= 2 * Self.membersPerCommand { emit(.hash, key, hashFields.removeValue(forKey: key)!) }
        case .sortedSet:
            zsetMembers[key, default: []].append(contentsOf: pairs)
            if zsetMembers[key]!.count >= 2 * Self.membersPerCommand { emit(.sortedSet, key, zsetMembers.removeValue(forKey: key)!) }
        case .set:
            setMembers[key, default: []].append(contentsOf: pairs)
            if setMembers[key]!.count >= Self.membersPerCommand { emit(.set, key, setMembers.removeValue(forKey: key)!) }
        }
        if hashFields.count + zsetMembers.count + setMembers.count > Self.bufferedKeysLimit { emitAll() }
        if commands.count >= Self.commandsPerPipeline { try await flush() }
    }

    private func emit(_ kind: Kind, _ key: String, _ pairs: [String]) {
        let command = switch kind { case .hash: "HSET"; case .sortedSet: "ZADD"; case .set: "SADD" }
        var builder = RedisCommand.Builder(capacity: 32 * pairs.count + 64)
        builder.append(command)
        builder.append(key)
        for value in pairs { builder.append(value) }
        commands.append(builder.command)
    }

    private func emitAll() {
        for (key, pairs) in hashFields { emit(.hash, key, pairs) }
        for (key, pairs) in zsetMembers { emit(.sortedSet, key, pairs) }
        for (key, members) in setMembers { emit(.set, key, members) }
        hashFields = [:]
        zsetMembers = [:]
        setMembers = [:]
    }

    /// Sends the built commands once the previous pipeline is done, without waiting for them.
    private func flush() async throws {
        guard !commands.isEmpty else { return }
        try await inFlight?.value
        let batch = commands
        commands = []
        let redis = redis
        inFlight = Task {
            for reply in try await redis.pipeline(batch) { try reply.orThrow() }
        }
    }
}

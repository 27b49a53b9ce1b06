import RedisClient
import OrdersDomain
import OrdersEventLog

/// Writes a new, empty generation's content in large pipelines, straight from each order's
/// changes: hash fields, sorted-set and set members are gathered per key into commands of up to
/// `membersPerCommand`, counters are summed in memory and written once at the
/// end, and one pipeline is in flight while the next is built. Only for a generation nobody else
/// writes yet (a rebuild before its consumer group exists).
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
    /// Capped sets (see `ProjectionBatch.cappedSets`): members added so far by key, the keys past
    /// their bound (common: no more buffering), the ones of those already partly written (deleted
    /// at the end), and the names that join each commons set.
    private var cappedCounts: [String: Int] = [:]
    private var cappedPast: Set<String> = []
    private var cappedWritten: Set<String> = []
    private var commonNames: [String: Set<String>] = [:]
    private var commands: [RedisCommand] = []
    private var inFlight: Task<Void, any Error>?

    init(redis: RedisClient) {
        self.redis = redis
    }

    /// Adds one order's writes: a generation is built from nothing, so they are additions only.
    func add(_ batch: ProjectionBatch) async throws {
        guard batch.hashDeletes.isEmpty, batch.keyDeletes.isEmpty, batch.sortedSetRemoves.isEmpty, batch.setRemoves.isEmpty else {
            throw ReadSideError.corrupt("a rebuild writes additions only, but a projection removed something")
        }
        for (key, fields) in batch.hashSets { try await buffer(.hash, key, fields.flatMap { [$0.key, $0.value] }) }
        for (key, members) in batch.sortedSetAdds { try await buffer(.sortedSet, key, members.flatMap { [$0.value, $0.key] }) }
        for (key, members) in batch.setAdds { try await buffer(.set, key, Array(members)) }
        for (key, fields) in batch.hashCounters {
            for (field, delta) in fields { hashCounters[key, default: [:]][field, default: 0] += delta }
        }
        for (key, members) in batch.sortedSetCounters {
            for (member, delta) in members { zsetCounters[key, default: [:]][member, default: 0] += delta }
        }
        for (keys, members) in batch.rankings {
            for (member, delta) in members { rankSums[RankKeys(ranking: keys.ranking, sums: keys.sums), default: [:]][member, default: 0] += delta }
        }
        for (key, capped) in batch.cappedSets where !cappedPast.contains(key) {
            cappedCounts[key, default: 0] += capped.members.count
            if cappedCounts[key]! > capped.bound {
                cappedPast.insert(key)
                commonNames[capped.commons, default: []].insert(capped.name)
                setMembers[key] = nil
            } else {
                try await buffer(.set, key, Array(capped.members))
            }
        }
        for (list, names) in batch.lists {
            // Every name added here has a member in its collection: it is listed.
            try await buffer(.sortedSet, list, names.keys.flatMap { ["0", $0] })
        }
    }

    /// Writes everything still buffered and waits for the last pipeline.
    func finish() async throws {
        // Summed counters land as plain values: the generation is empty, so HSET/ZADD of the sum
        // equals the increments one by one, and a sum of zero is no field at all, as a batch
        // resolves it (counts at or below zero leave their ranking).
        for (key, counters) in hashCounters {
            for (field, sum) in counters where sum != 0 { try await buffer(.hash, key, [field, String(sum)]) }
        }
        for (key, counters) in zsetCounters {
            for (member, sum) in counters where sum > 0 { try await buffer(.sortedSet, key, [String(sum), member]) }
        }
        for (keys, sums) in rankSums {
            for (member, sum) in sums where sum != 0 {
                try await buffer(.hash, keys.sums, [member, String(sum)])
                try await buffer(.sortedSet, keys.ranking, [String(sum), member])
            }
        }
        for (commons, names) in commonNames { try await buffer(.set, commons, Array(names)) }
        hashCounters = [:]
        zsetCounters = [:]
        rankSums = [:]
        commonNames = [:]
        emitAll()
        // Capped sets that passed their bound after part of them was written: gone, as live.
        for key in cappedWritten.intersection(cappedPast) { commands.append(RedisCommand("UNLINK", key)) }
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
        if kind == .set && cappedCounts[key] != nil { cappedWritten.insert(key) }
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

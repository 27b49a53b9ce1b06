import RedisClient

/// The read-model writes of many orders' changes, gathered per key so one batch of the log makes
/// one command per key (and one per counter field), not one per order.
///
/// Plain writes (hash fields, set and sorted-set members, whole keys deleted) go out as they are.
/// Counters are summed over the batch, then resolved against the values Redis holds (`lookups`,
/// read in the same round trip as the lease check) into absolute writes: a counter back at zero
/// leaves its hash or sorted set, so the model's form does not depend on the path that led to it
/// and a rebuild equals the live model key for key. Resolving in the service is safe because one
/// projector at a time writes a generation (the lease), and its commit is fenced.
public struct ProjectionBatch: Sendable {
    var hashSets: [String: [String: String]] = [:]
    var hashDeletes: [String: Set<String>] = [:]
    var keyDeletes: Set<String> = []
    var sortedSetAdds: [String: [String: String]] = [:]
    var sortedSetRemoves: [String: Set<String>] = [:]
    var setAdds: [String: Set<String>] = [:]
    var setRemoves: [String: Set<String>] = [:]
    /// Hash fields summed over the batch; a field at 0 is deleted.
    var hashCounters: [String: [String: Int64]] = [:]
    /// Sorted-set members counted over the batch; a member at or below 0 leaves.
    var sortedSetCounters: [String: [String: Int64]] = [:]
    /// Rankings scored by an exact sum kept beside them in a hash (scores are doubles: a sum past
    /// 2^53 would lose cents); a member whose sum is back at 0 leaves both.
    var rankings: [RankingKeys: [String: Int64]] = [:]
    /// Name lists (sorted sets of names, score 0, for prefix lookup: the search words, the id
    /// buckets) kept equal to the names whose collection is not empty: list key → name → the
    /// name's collection.
    var lists: [String: [String: Listed]] = [:]

    /// Sets that grow only and stop at a bound: when a set would pass `bound` members it is
    /// deleted and its name joins the set `commons` for good (the search word sets).
    var cappedSets: [String: CappedSet] = [:]

    struct CappedSet {
        var members: Set<String>
        let name: String
        let commons: String
        let bound: Int
    }

    /// The set or sorted set a listed name stands for.
    struct Listed: Hashable {
        let key: String
        let sorted: Bool
    }

    struct RankingKeys: Hashable {
        let ranking: String
        let sums: String
    }

    public init() {}

    public var isEmpty: Bool {
        hashSets.isEmpty && hashDeletes.isEmpty && keyDeletes.isEmpty && sortedSetAdds.isEmpty && sortedSetRemoves.isEmpty
            && setAdds.isEmpty && setRemoves.isEmpty && hashCounters.isEmpty && sortedSetCounters.isEmpty && rankings.isEmpty
            && lists.isEmpty && cappedSets.isEmpty
    }

    /// What the batch removes from a listed collection, and how many members it adds.
    private func removes(_ collection: Listed) -> Set<String>? {
        collection.sorted ? sortedSetRemoves[collection.key] : setRemoves[collection.key]
    }

    private func adds(_ collection: Listed) -> Int {
        collection.sorted ? sortedSetAdds[collection.key]?.count ?? 0
            : (setAdds[collection.key]?.count ?? 0) + (cappedSets[collection.key]?.members.count ?? 0)
    }

    /// The keys of the batch's plain writes (not its counters).
    var plainKeys: Set<String> {
        keyDeletes.union(hashSets.keys).union(hashDeletes.keys).union(sortedSetAdds.keys).union(sortedSetRemoves.keys)
            .union(setAdds.keys).union(setRemoves.keys).union(cappedSets.keys)
    }

    // MARK: - What projections write

    public mutating func setField(_ key: String, _ field: String, _ value: String) {
        hashSets[key, default: [:]][field] = value
        hashDeletes[key]?.remove(field)
    }

    public mutating func deleteField(_ key: String, _ field: String) {
        hashDeletes[key, default: []].insert(field)
        hashSets[key]?[field] = nil
    }

    public mutating func deleteKey(_ key: String) {
        keyDeletes.insert(key)
        hashSets[key] = nil
    }

    /// Adds `member` to the sorted set `key`; with `list`, the name `name` joins that list too.
    public mutating func addMember(_ key: String, _ member: String, score: String, list: String? = nil, name: String = "") {
        sortedSetAdds[key, default: [:]][member] = score
        sortedSetRemoves[key]?.remove(member)
        if let list { lists[list, default: [:]][name] = Listed(key: key, sorted: true) }
    }

    /// Removes `member` from the sorted set `key`; with `list`, the name leaves it once the
    /// sorted set is empty.
    public mutating func removeMember(_ key: String, _ member: String, list: String? = nil, name: String = "") {
        sortedSetRemoves[key, default: []].insert(member)
        sortedSetAdds[key]?[member] = nil
        if let list { lists[list, default: [:]][name] = Listed(key: key, sorted: true) }
    }

    /// Adds `member` to the set `key`; with `list`, the name `name` joins that list too.
    public mutating func addToSet(_ key: String, _ member: String, list: String? = nil, name: String = "") {
        setAdds[key, default: []].insert(member)
        setRemoves[key]?.remove(member)
        if let list { lists[list, default: [:]][name] = Listed(key: key, sorted: false) }
    }

    /// Removes `member` from the set `key`; with `list`, the name leaves it once the set is empty.
    public mutating func removeFromSet(_ key: String, _ member: String, list: String? = nil, name: String = "") {
        setRemoves[key, default: []].insert(member)
        setAdds[key]?.remove(member)
        if let list { lists[list, default: [:]][name] = Listed(key: key, sorted: false) }
    }

    /// Adds `member` to the capped set `key` (see `cappedSets`), whose name is listed in `list`.
    public mutating func addToCappedSet(_ key: String, _ member: String, bound: Int, commons: String, list: String, name: String) {
        cappedSets[key, default: CappedSet(members: [], name: name, commons: commons, bound: bound)].members.insert(member)
        lists[list, default: [:]][name] = Listed(key: key, sorted: false)
    }

    public mutating func increment(_ key: String, _ field: String, by delta: Int64) {
        guard delta != 0 else { return }
        hashCounters[key, default: [:]][field, default: 0] += delta
    }

    public mutating func count(_ ranking: String, _ member: String, by delta: Int64) {
        guard delta != 0 else { return }
        sortedSetCounters[ranking, default: [:]][member, default: 0] += delta
    }

    public mutating func rank(_ ranking: String, sums: String, _ member: String, by delta: Int64) {
        guard delta != 0 else { return }
        rankings[RankingKeys(ranking: ranking, sums: sums), default: [:]][member, default: 0] += delta
    }

    // MARK: - Resolving against what Redis holds

    /// What must be read before the batch can be written: counters' current values, listed
    /// collections' sizes and whether their names are listed.
    public struct Lookup: Sendable, Hashable {
        public enum Kind: Sendable, Hashable { case hashFields, sortedSetScores, setSize, sortedSetSize, setMembership }
        public let kind: Kind
        public let key: String
        public let members: [String]

        public var command: RedisCommand {
            switch kind {
            case .hashFields: RedisCommand("HMGET", [key] + members)
            case .sortedSetScores: RedisCommand("ZMSCORE", [key] + members)
            case .setSize: RedisCommand("SCARD", key)
            case .sortedSetSize: RedisCommand("ZCARD", key)
            case .setMembership: RedisCommand("SMISMEMBER", [key] + members)
            }
        }
    }

    public var lookups: [Lookup] {
        var lookups: [Lookup] = []
        for (key, fields) in hashCounters { lookups.append(Lookup(kind: .hashFields, key: key, members: Array(fields.keys))) }
        for (key, members) in sortedSetCounters { lookups.append(Lookup(kind: .sortedSetScores, key: key, members: Array(members.keys))) }
        for (keys, members) in rankings { lookups.append(Lookup(kind: .hashFields, key: keys.sums, members: Array(members.keys))) }
        var commons: [String: [String]] = [:]
        for (key, capped) in cappedSets {
            lookups.append(Lookup(kind: .setSize, key: key, members: []))
            commons[capped.commons, default: []].append(capped.name)
        }
        for (key, names) in commons { lookups.append(Lookup(kind: .setMembership, key: key, members: names)) }
        for (list, names) in lists {
            lookups.append(Lookup(kind: .sortedSetScores, key: list, members: Array(names.keys)))
            for listed in Set(names.values) where removes(listed) != nil {
                lookups.append(Lookup(kind: listed.sorted ? .sortedSetSize : .setSize, key: listed.key, members: []))
            }
        }
        return lookups
    }

    /// The values `lookups` found: numbers by key and member, as Redis wrote them (nil: absent;
    /// counters are 64-bit integers, read exactly), collection sizes by key.
    public struct Current: Sendable {
        public var numbers: [String: [String: String]] = [:]
        public var sizes: [String: Int] = [:]
        /// Of the names a `setMembership` lookup asked about, those in its set, by set key.
        public var memberships: [String: Set<String>] = [:]
        public init() {}

        /// Reads the replies of `lookups`' commands, in their order.
        public init(_ lookups: [Lookup], replies: [RedisValue]) throws {
            for (lookup, reply) in zip(lookups, replies) {
                switch lookup.kind {
                case .setSize, .sortedSetSize:
                    sizes[lookup.key] = try reply.orThrow().int ?? 0
                case .setMembership:
                    let flags = try reply.orThrow().array ?? []
                    memberships[lookup.key] = Set(zip(lookup.members, flags).filter { $0.1.int == 1 }.map(\.0))
                case .hashFields, .sortedSetScores:
                    let values = try reply.orThrow().array ?? []
                    for (member, value) in zip(lookup.members, values) {
                        if let text = value.string { numbers[lookup.key, default: [:]][member] = text }
                    }
                }
            }
        }
    }

    /// One write of a resolved batch.
    public enum Write: Sendable {
        case setFields(String, [(field: String, value: String)])
        case deleteFields(String, [String])
        case deleteKey(String)
        case addMembers(String, [(score: String, member: String)])
        case removeMembers(String, [String])
        case addToSet(String, [String])
        case removeFromSet(String, [String])

        public var key: String {
            switch self {
            case .setFields(let key, _), .deleteFields(let key, _), .deleteKey(let key), .addMembers(let key, _),
                 .removeMembers(let key, _), .addToSet(let key, _), .removeFromSet(let key, _): key
            }
        }

        /// Built straight into RESP (a batch makes hundreds of these: the generic initializer's
        /// array of existentials showed in the profile).
        public var command: RedisCommand {
            var builder = RedisCommand.Builder(capacity: 256)
            func start(_ name: String, _ key: String) {
                builder.append(name)
                builder.append(key)
            }
            switch self {
            case .setFields(let key, let pairs):
                start("HSET", key)
                for pair in pairs { builder.append(pair.field); builder.append(pair.value) }
            case .deleteFields(let key, let fields):
                start("HDEL", key)
                for field in fields { builder.append(field) }
            case .deleteKey(let key):
                start("DEL", key)
            case .addMembers(let key, let pairs):
                start("ZADD", key)
                for pair in pairs { builder.append(pair.score); builder.append(pair.member) }
            case .removeMembers(let key, let members):
                start("ZREM", key)
                for member in members { builder.append(member) }
            case .addToSet(let key, let members):
                start("SADD", key)
                for member in members { builder.append(member) }
            case .removeFromSet(let key, let members):
                start("SREM", key)
                for member in members { builder.append(member) }
            }
            return builder.command
        }
    }

    /// The batch as writes, its counters resolved against `current`: one write per key and kind.
    /// Keys are deleted first, then members and fields are removed, then added, so a key's own
    /// writes cannot undo each other. (Redis does not care about the order of keys: none is
    /// imposed.)
    public func writes(given current: Current) -> [Write] {
        var sets = hashSets.mapValues { $0.map { (field: $0.key, value: $0.value) } }
        var deletes = hashDeletes.mapValues(Array.init)
        var zadds = sortedSetAdds.mapValues { $0.map { (score: $0.value, member: $0.key) } }
        var zrems = sortedSetRemoves.mapValues(Array.init)

        func resolved(_ key: String, _ member: String, _ delta: Int64) -> Int64 {
            guard let text = current.numbers[key]?[member] else { return delta }
            // Hash counters are integers; a sorted set's count is a score (a double) that holds one.
            return (Int64(text) ?? Double(text).map { Int64($0) } ?? 0) + delta
        }
        for (key, fields) in hashCounters {
            for (field, delta) in fields {
                let sum = resolved(key, field, delta)
                if sum == 0 { deletes[key, default: []].append(field) } else { sets[key, default: []].append((field, String(sum))) }
            }
        }
        for (key, members) in sortedSetCounters {
            for (member, delta) in members {
                let count = resolved(key, member, delta)
                if count <= 0 { zrems[key, default: []].append(member) } else { zadds[key, default: []].append((String(count), member)) }
            }
        }
        for (keys, members) in rankings {
            for (member, delta) in members {
                let sum = resolved(keys.sums, member, delta)
                if sum == 0 {
                    deletes[keys.sums, default: []].append(member)
                    zrems[keys.ranking, default: []].append(member)
                } else {
                    sets[keys.sums, default: []].append((member, String(sum)))
                    zadds[keys.ranking, default: []].append((String(sum), member))
                }
            }
        }
        for (list, names) in lists {
            for (name, collection) in names {
                let listed = current.numbers[list]?[name] != nil
                let keeps = adds(collection) > 0 || (current.sizes[collection.key] ?? 0) > (removes(collection)?.count ?? 0)
                if keeps && !listed { zadds[list, default: []].append(("0", name)) }
                if !keeps && listed { zrems[list, default: []].append(name) }
            }
        }
        var setAddsResolved = setAdds.mapValues(Array.init)
        var keyDeletes = self.keyDeletes
        for (key, capped) in cappedSets where current.memberships[capped.commons]?.contains(capped.name) != true {
            if (current.sizes[key] ?? 0) + capped.members.count > capped.bound {
                keyDeletes.insert(key)
                setAddsResolved[capped.commons, default: []].append(capped.name)
            } else {
                setAddsResolved[key, default: []].append(contentsOf: capped.members)
            }
        }
        var writes: [Write] = keyDeletes.map { .deleteKey($0) }
        writes += zrems.filter { !$0.value.isEmpty }.map { .removeMembers($0.key, $0.value) }
        writes += setRemoves.filter { !$0.value.isEmpty }.map { .removeFromSet($0.key, Array($0.value)) }
        writes += deletes.filter { !$0.value.isEmpty }.map { .deleteFields($0.key, $0.value) }
        writes += sets.filter { !$0.value.isEmpty }.map { .setFields($0.key, $0.value) }
        writes += zadds.filter { !$0.value.isEmpty }.map { .addMembers($0.key, $0.value) }
        writes += setAddsResolved.filter { !$0.value.isEmpty }.map { .addToSet($0.key, $0.value) }
        return writes
    }
}

extension ProjectionBatch {
    /// Reads what the batch's counters and word sets hold now, on `redis` (the connection that
    /// holds the caller's WATCH), and resolves the batch into writes.
    func resolved(on redis: RedisClient) async throws -> [Write] {
        let lookups = self.lookups
        guard !lookups.isEmpty else { return writes(given: Current()) }
        return writes(given: try Current(lookups, replies: try await redis.pipeline(lookups.map(\.command))))
    }
}

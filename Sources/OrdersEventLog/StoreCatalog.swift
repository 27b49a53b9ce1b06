import OrdersDomain
import RedisClient

/// What a store is, recorded in Redis when the store is created and read by every instance at
/// start-up: `<namespace>:store`, a hash (`partitions`, `createdAt`), readable with `HGETALL
/// orders:store`. The number of partitions is fixed from then on: an order's partition is a hash
/// of its id modulo that number.
public enum StoreCatalog {
    public static func key(_ namespace: String) -> String { "\(namespace):store" }

    /// A request for another number of partitions than the store was created with.
    public struct Mismatch: Error, CustomStringConvertible {
        public let description: String
    }

    /// The layout of the store under `namespace`:
    /// - as recorded;
    /// - else, for a store written before the record existed (its log or its live pointer at the
    ///   tag `{0}`), one partition, recorded now;
    /// - else a new store of `requested` partitions (`orders init --partitions P` or `serve
    ///   --partitions P`; by default `defaultPartitions`), recorded now. Two instances creating
    ///   one store at once agree: the first record wins (HSETNX) and both read it back.
    /// `requested` differing from the recorded number is a `Mismatch`.
    public static func open(_ redis: RedisClient, namespace: String, partitions requested: Int? = nil) async throws -> StoreLayout {
        if let requested, !(1...StoreLayout.maxPartitions).contains(requested) {
            throw Mismatch(description: "a store has 1 to \(StoreLayout.maxPartitions) partitions, not \(requested)")
        }
        let key = key(namespace)
        let existing = try await existingPartitions(redis, namespace: namespace)
        if let existing, existing.recorded {
            return try layout(namespace, recorded: existing.partitions, requested: requested)
        }
        let written = existing != nil
        let partitions: Int
        if written {
            partitions = 1
        } else if let requested {
            partitions = requested
        } else {
            partitions = try await defaultPartitions(on: redis)
        }
        if written, let requested, requested != 1 {
            throw Mismatch(description: "store \(namespace) was written with one partition; it cannot have \(requested)")
        }
        try await redis.send("HSETNX", key, "partitions", partitions)
        try await redis.send("HSETNX", key, "createdAt", Timestamp.now().description)
        guard let recorded = try await redis.send("HGET", key, "partitions").int else {
            throw Mismatch(description: "\(key) holds no partition count")
        }
        return try layout(namespace, recorded: recorded, requested: requested)
    }

    /// The partitions of the store under `namespace` as it is, writing nothing: as recorded, or 1
    /// for a store written before the record existed (its log or its live pointer at `{0}`); nil
    /// when there is no store.
    public static func existingPartitions(_ redis: RedisClient, namespace: String) async throws -> (partitions: Int, recorded: Bool)? {
        if let recorded = try await redis.send("HGET", key(namespace), "partitions").int { return (recorded, true) }
        let single = KeySchema(namespace: namespace)
        let written = try await redis.pipeline([RedisCommand("EXISTS", single.log), RedisCommand("EXISTS", single.prefix + "view:live")])
        return written.contains { $0.int == 1 } ? (1, false) : nil
    }

    /// A new store's partitions when none are asked for: 1 on a single Redis (partitions there
    /// only cost fan-out), `clusterDefault` on a cluster, enough to spread over 3 to 16 masters
    /// and to move a partition at a time from one master to another.
    public static let clusterDefault = 16

    static func defaultPartitions(on redis: RedisClient) async throws -> Int {
        _ = try await redis.primaries() // tells a cluster from a single Redis
        return redis.isCluster ? clusterDefault : 1
    }

    private static func layout(_ namespace: String, recorded: Int, requested: Int?) throws -> StoreLayout {
        guard (1...StoreLayout.maxPartitions).contains(recorded) else {
            throw Mismatch(description: "\(key(namespace)) records \(recorded) partitions, which no build can read")
        }
        if let requested, requested != recorded {
            throw Mismatch(description: "store \(namespace) has \(recorded) partitions, fixed when it was created; \(requested) were asked for")
        }
        return StoreLayout(namespace: namespace, partitionCount: recorded)
    }
}

import OrdersDomain
import RedisClient

/// How a store is split: its namespace and its P partitions, fixed when the store is created.
///
/// - Each partition has its own hash tag, and every key of the partition carries it (its order
///   streams, its log, its command ids, snapshots, read models), so each atomic call touches one
///   slot of a Redis Cluster. The tags are chosen so that partition p's slot lies in the p-th of
///   P equal ranges of the 16,384 slots: a cluster whose masters hold equal ranges of slots (as
///   `redis-cli --cluster create` makes them) gets equal shares of partitions. A store of one
///   partition has the tag `0`: the layout every store had before partitions.
/// - An order's partition is a hash of its id (FNV-1a modulo P): known from the id alone, with
///   no lookup, by any instance.
/// - A customer's orders all live in the customer's partition (`partition(ofCustomer:)`): the
///   service draws new ids until one hashes there, and refuses an id chosen by a client that
///   does not. A customer's listing then reads one partition, and each partition's top
///   customers are exact, so their union holds the store's.
public struct StoreLayout: Sendable, Hashable {
    public let namespace: String
    /// Each partition's keys, by partition number.
    public let partitions: [KeySchema]

    public static let maxPartitions = 1024

    public init(namespace: String = "orders", partitionCount: Int = 1) {
        precondition((1...Self.maxPartitions).contains(partitionCount), "a store has 1 to \(Self.maxPartitions) partitions")
        self.namespace = namespace
        self.partitions = (0..<partitionCount).map {
            KeySchema(namespace: namespace, partition: $0, tag: Self.tag(partition: $0, of: partitionCount))
        }
    }

    public var count: Int { partitions.count }

    /// The partition of an order, from its id.
    public func partition(ofOrder orderId: String) -> Int {
        Int(KeySchema.fnv1a(orderId) % UInt32(count))
    }

    /// The keys of an order's partition.
    public func keys(ofOrder orderId: String) -> KeySchema {
        partitions[partition(ofOrder: orderId)]
    }

    /// The partition of a customer's orders: their email folded as the customer index folds it.
    public func partition(ofCustomer email: String) -> Int {
        Int(KeySchema.fnv1a(TextFolding.fold(email)) % UInt32(count))
    }

    /// The hash tag of partition `partition` of `count`: its number when that number's slot
    /// lies in the partition's range, else `<number>.<k>` with the smallest k whose slot does
    /// (about `count` tries: at most a few thousand hashes, once per store).
    public static func tag(partition: Int, of count: Int) -> String {
        let range = (partition * HashSlot.count / count)..<((partition + 1) * HashSlot.count / count)
        if range.contains(HashSlot.of(String(partition))) { return String(partition) }
        var attempt = 1
        while true {
            let candidate = "\(partition).\(attempt)"
            if range.contains(HashSlot.of(candidate)) { return candidate }
            attempt += 1
        }
    }
}

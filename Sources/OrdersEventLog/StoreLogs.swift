import RedisClient

/// The logs of every partition of one store, and the one an order lives in: what reads of one
/// order (its stream, its snapshot) and appends go through.
public struct StoreLogs: Sendable {
    public let layout: StoreLayout
    /// Each partition's log, by partition number.
    public let partitions: [EventLog]

    public init(redis: RedisClient, layout: StoreLayout) {
        self.layout = layout
        self.partitions = layout.partitions.map { EventLog(redis: redis, keys: $0) }
    }

    public var redis: RedisClient { partitions[0].redis }

    /// The log of the order's partition.
    public func ofOrder(_ orderId: String) -> EventLog {
        partitions.count == 1 ? partitions[0] : partitions[layout.partition(ofOrder: orderId)]
    }
}

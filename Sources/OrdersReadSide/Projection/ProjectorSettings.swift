import OrdersDomain
import OrdersEventLog
import RedisClient

/// How a projector consumes the log.
public struct ProjectorSettings: Sendable {
    /// This instance's name in the consumer group and in its lease token; unique per process.
    public var consumer: String
    /// Most log entries read and applied in one batch. An entry is visible to readers only once
    /// its batch is committed (bench/BASELINE.md measures the trade-off).
    public var batchSize: Int
    /// How long one XREADGROUP waits for new entries. Must stay well under `lease`: the holder
    /// renews its lease between reads.
    public var block: Duration
    /// How long a projector's lease lasts without renewal: after a holder dies, another instance
    /// takes over within this time. Standby instances try to take the lease every `lease / 5`.
    public var lease: Duration
    /// Where this package's tests of crash recovery stop a projector as if its process died
    /// (`.beforeCommit`: a batch read, its entries pending, nothing committed).
    package var crashPoints = CrashPoints.none

    public init(consumer: String, batchSize: Int = 100, block: Duration = .seconds(1), lease: Duration = .seconds(5)) {
        self.consumer = consumer
        self.batchSize = batchSize
        self.block = block
        self.lease = lease
    }

    /// A connection of its own for a projector's (or a group's) batches, read and committed in
    /// turn on it: its command timeout allows for a blocking read's `block`.
    func connection(to log: EventLog) -> RedisClient {
        log.redis.dedicated(commandTimeout: block + .seconds(5))
    }
}

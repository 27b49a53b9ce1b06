import OrdersDomain
import OrdersEventLog
/// How a projector consumes the log.
public struct ProjectorSettings: Sendable {
    /// This instance's name in the consumer group; unique per process.
    public var consumer: String
    /// Most log entries read and applied in one batch. An entry is visible to readers only once
    /// its batch is applied: 100 keeps a created order readable within ~70–160 ms under full
    /// write load, where 500 took ~170–260 ms, for about the same throughput (bench/BASELINE.md).
    public var batchSize: Int
    /// How long one XREADGROUP waits for new entries.
    public var block: Duration
    /// An entry pending this long (its consumer died, or applying it failed) is claimed again.
    /// Each further delivery waits twice as long as the one before (backoff).
    public var claimAfter: Duration
    /// After this many deliveries an entry that still fails goes to the dead-letter stream.
    public var maxDeliveries: Int
    /// Fault injection for tests of crash recovery (package access: only this package's tests
    /// set it): when it returns true, a batch is applied but not acknowledged and `step` throws
    /// `SimulatedCrash`, as if the process died in between.
    package var faultBeforeAck: @Sendable () -> Bool = { false }

    public init(consumer: String, batchSize: Int = 100, block: Duration = .seconds(1),
                claimAfter: Duration = .seconds(10), maxDeliveries: Int = 5) {
        self.consumer = consumer
        self.batchSize = batchSize
        self.block = block
        self.claimAfter = claimAfter
        self.maxDeliveries = maxDeliveries
    }
}

/// Thrown when `faultBeforeAck` fired: the batch was applied, its entries are still pending.
public struct SimulatedCrash: Error {}

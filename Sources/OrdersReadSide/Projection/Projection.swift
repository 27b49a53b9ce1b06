import RedisClient
import OrdersDomain
import OrdersEventLog

/// A read model fed from the log. The fold is pure (`apply`); what to write when one order's
/// state changes is pure too (`write`); the `Projector` does the I/O, a batch of the log at a time.
///
/// A projection keeps no per-order bookkeeping in Redis: what it holds for an order is, by
/// construction, the fold of that order's events up to the generation's checkpoint, so the
/// projector derives an order's old state from the order's own stream (the events at or below
/// the checkpoint) and its new state from the same read (the events up to the batch's end).
public protocol Projection: Sendable {
    associatedtype State: Sendable & Equatable

    /// "order", "summary": names its keys and its consumer group.
    static var name: String { get }
    /// Bump when what the projection writes changes; a mismatch with the live generation's
    /// recorded schema asks for a rebuild.
    static var schemaVersion: Int { get }

    /// The state after one more event; nil when the order is not (or no longer) visible.
    func apply(_ event: OrderEvent, of recorded: RecordedEvent, to state: State?) -> State?
    /// Adds the writes that turn `old` into `new` for this order to `batch`. Counters go in as
    /// increments (`ProjectionBatch.increment`, `count`, `rank`): the batch sums them.
    func write(_ orderId: String, from old: State?, to new: State?, into batch: inout ProjectionBatch, in keys: ViewKeys)
}

/// A projection that can read back what it holds for one order, so an in-place replay can
/// repair that order's part of the model (an order's record damaged or deleted by hand). A
/// projection of counters only (the summary) has nothing per order to read: its figures are
/// exact by construction at the checkpoint, and only a rebuild re-derives them.
public protocol RepairableProjection: Projection {
    /// Reads what the projection holds for one order.
    func readCommand(for orderId: String, in keys: ViewKeys) -> RedisCommand
    /// The state in `readCommand`'s reply (nil: nothing).
    func parse(_ reply: RedisValue) throws -> State?
}

import RedisClient
import OrdersDomain
import OrdersEventLog

/// A read model fed from the log, one order at a time. The fold is pure (`apply`); what to write
/// for a change of one order's state is pure too (`changes`); the `Projector` does the I/O.
///
/// Each projection keeps, per order, the version it reflects in a guard field whose value starts
/// with that version; `orders_project` compares it before writing, which makes applying
/// idempotent and safe with competing consumers.
public protocol Projection: Sendable {
    associatedtype State: Sendable & Equatable

    /// "order", "summary": names its keys and its consumer group.
    static var name: String { get }
    /// Bump when what the projection writes changes; a mismatch with the live generation's
    /// recorded schema asks for a rebuild.
    static var schemaVersion: Int { get }

    /// Where the per-order guard lives: a hash key and a field in it.
    func guardLocation(of orderId: String, in keys: ViewKeys) -> (key: String, field: String)
    /// Reads what the projection holds for one order.
    func readCommand(for orderId: String, in keys: ViewKeys) -> RedisCommand
    /// The version and state in `readCommand`'s reply (version 0, nil state: nothing yet).
    func parse(_ reply: RedisValue) throws -> (version: Int, state: State?)
    /// The state of an order rebuilt from its aggregate (used to replay one order from a snapshot);
    /// must equal folding the same events with `apply`.
    func state(from aggregate: OrderAggregate) -> State?
    /// The state after one more event; nil when the order is not (or no longer) visible.
    func apply(_ event: OrderEvent, of recorded: RecordedEvent, to state: State?) -> State?
    /// The writes that turn `old` into `new` for this order, and the guard's new value.
    func changes(for orderId: String, from old: State?, to new: State?, version: Int,
                 in keys: ViewKeys) -> (ProjectionChanges, guardValue: String)
}

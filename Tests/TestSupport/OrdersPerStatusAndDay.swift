import OrdersDomain
import OrdersEventLog
import OrdersReadSide
import RedisClient

/// A read model defined outside the service, to prove that adding one is a new type and one line
/// in the list (ThirdProjectionTests), and adding its query one operation (OrdersAPITests'
/// CountOrdersByStatusAndDay): orders counted per status and creation day.
public struct OrdersPerStatusAndDay: Projection {
    public init() {}

    public typealias State = String // "<status>:<day>"
    public static let name = "status-day"
    public static let schemaVersion = 1

    public func counts(_ keys: ViewKeys) -> String { keys.prefix + "counts" }

    public func apply(_ event: OrderEvent, of recorded: RecordedEvent, to state: String?) -> String? {
        let day = state.map { String($0.split(separator: ":", maxSplits: 1)[1]) } ?? recorded.occurredAt.day
        switch event {
        case .created: return "pending:\(day)"
        case .statusChanged(let change): return state == nil ? nil : "\(change.to.rawValue):\(day)"
        case .cancelled: return state == nil ? nil : "cancelled:\(day)"
        case .deleted: return nil
        }
    }

    public func write(_ orderId: String, from old: String?, to new: String?, into batch: inout ProjectionBatch, in keys: ViewKeys) {
        guard old != new else { return }
        if let old { batch.increment(counts(keys), old, by: -1) }
        if let new { batch.increment(counts(keys), new, by: 1) }
    }
}


extension QueryHandler {
    /// The third projection's query: its counts by `<status>:<day>` (none at zero), from its live
    /// generation once it has applied `minPosition`.
    public func ordersPerStatusAndDay(minPosition: LogPosition? = nil) async throws -> [String: Int] {
        let keys = try await view(OrdersPerStatusAndDay.name, applied: minPosition)
        let fields = try await log.redis.send("HGETALL", OrdersPerStatusAndDay().counts(keys)).array ?? []
        var counts: [String: Int] = [:]
        for index in stride(from: 0, to: fields.count - 1, by: 2) {
            if let field = fields[index].string, let count = fields[index + 1].int, count != 0 { counts[field] = count }
        }
        return counts
    }
}

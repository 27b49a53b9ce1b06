/// What a caller asks of one order. Validation of field values happens in `OrderAggregate.decide`.
public enum OrderCommand: Sendable, Hashable {
    case create(customerName: String, customerEmail: String, items: [OrderItem])
    case updateStatus(OrderStatus)
    case cancel(reason: String?)
    case delete
}

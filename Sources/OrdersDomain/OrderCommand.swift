/// What a caller asks of one order. Validation of field values happens in `OrderAggregate.decide`.
public enum OrderCommand: Sendable, Hashable {
    case create(customerName: String, customerEmail: String, items: [OrderItem])
    case updateStatus(OrderStatus)
    case cancel(reason: String?)
    case delete
}

extension OrderCommand {
    /// The rules of the command's own data, whatever the order's state: what a retry with the
    /// same command id must meet before it is answered with the first result (a request that
    /// is invalid in itself is refused, never answered as a success).
    public func validate() throws(DomainError) {
        switch self {
        case .create(let name, let email, let items):
            try OrderRules.validateCreate(customerName: name, customerEmail: email, items: items)
        case .cancel(let reason):
            try OrderRules.validateReason(reason)
        case .updateStatus, .delete:
            break
        }
    }
}

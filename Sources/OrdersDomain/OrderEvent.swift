/// What happened to an order. Each case's stored `type` name is a stable string written in the
/// event streams; renaming a Swift type never changes it.
public enum OrderEvent: Sendable, Hashable {
    case created(OrderCreated)
    case statusChanged(OrderStatusChanged)
    case cancelled(OrderCancelled)
    case deleted(OrderDeleted)

    public var type: String {
        switch self {
        case .created: return OrderCreated.type
        case .statusChanged: return OrderStatusChanged.type
        case .cancelled: return OrderCancelled.type
        case .deleted: return OrderDeleted.type
        }
    }
}

public struct OrderCreated: Sendable, Hashable, Codable {
    public static let type = "OrderCreated"
    public var customerName: String
    public var customerEmail: String
    public var items: [OrderItem]

    public init(customerName: String, customerEmail: String, items: [OrderItem]) {
        self.customerName = customerName
        self.customerEmail = customerEmail
        self.items = items
    }
}

public struct OrderStatusChanged: Sendable, Hashable, Codable {
    public static let type = "OrderStatusChanged"
    public var from: OrderStatus
    public var to: OrderStatus

    public init(from: OrderStatus, to: OrderStatus) {
        self.from = from
        self.to = to
    }
}

public struct OrderCancelled: Sendable, Hashable, Codable {
    public static let type = "OrderCancelled"
    /// The status the order had when it was cancelled.
    public var from: OrderStatus
    public var reason: String?

    public init(from: OrderStatus, reason: String?) {
        self.from = from
        self.reason = reason
    }
}

public struct OrderDeleted: Sendable, Hashable, Codable {
    public static let type = "OrderDeleted"
    public init() {}
}

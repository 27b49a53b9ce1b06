/// One line of an order. The line total is derived, never stored apart from its inputs.
public struct OrderItem: Sendable, Hashable, Codable {
    public var sku: String
    public var name: String
    public var quantity: Int
    public var unitPrice: Money

    public init(sku: String, name: String, quantity: Int, unitPrice: Money) {
        self.sku = sku
        self.name = name
        self.quantity = quantity
        self.unitPrice = unitPrice
    }

    public var lineTotal: Money { unitPrice * quantity }
}

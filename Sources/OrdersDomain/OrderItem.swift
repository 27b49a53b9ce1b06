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

extension OrderItem {
    /// An item as stored in events and records: `{"name","quantity","sku","unitPrice"}`.
    public init?(json: JSON) {
        guard let sku = json["sku"]?.string, let name = json["name"]?.string, let quantity = json["quantity"]?.int,
              let price = json["unitPrice"]?.string.flatMap({ Money(decimal: $0) }) else { return nil }
        self.init(sku: sku, name: name, quantity: Int(quantity), unitPrice: price)
    }
}

extension JSONWriter {
    /// Writes items as stored in events and records (keys sorted).
    public mutating func items(_ items: [OrderItem]) {
        raw("[")
        for (index, item) in items.enumerated() {
            if index > 0 { raw(",") }
            raw("{")
            key("name", first: true)
            string(item.name)
            key("quantity")
            raw(String(item.quantity))
            key("sku")
            string(item.sku)
            key("unitPrice")
            string(item.unitPrice.description)
            raw("}")
        }
        raw("]")
    }
}

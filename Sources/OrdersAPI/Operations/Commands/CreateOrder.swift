import OrdersDomain
import OrdersEventLog
import OrdersWriteSide

/// Creates an order: a customer and one to 100 items. Line: `sku, name, quantity, unitPrice`
/// items; HTTP (`POST /api/v1/orders/order`, the original design's shape): `productId,
/// productName, quantity, price`. 201 with `Location`.
enum CreateOrder: OrderCommandOperation {
    static let name = "createOrder"
    static let route = HTTPRoute.post("/api/v1/orders/order")

    static func input(line request: RequestFields) throws(APIError) -> Input {
        try self.request(try command(request, fields: .lineProtocol), line: request, orderId: nil)
    }

    static func input(http call: HTTPCall) throws(APIError) -> Input {
        let body = try call.body(taking: ["customerName", "customerEmail", "items"])
        return try request(try command(body, fields: .rest), http: call, orderId: nil)
    }

    static func message(_ input: Input) -> String { "Order created successfully" }

    /// What an item's fields are called: the line protocol's names, or the REST API's.
    struct ItemFieldNames {
        let sku: String, name: String, quantity: String, price: String
        static let lineProtocol = ItemFieldNames(sku: "sku", name: "name", quantity: "quantity", price: "unitPrice")
        static let rest = ItemFieldNames(sku: "productId", name: "productName", quantity: "quantity", price: "price")
    }

    /// The create command a request describes: the customer and the items, checked.
    static func command(_ request: RequestFields, fields: ItemFieldNames) throws(APIError) -> OrderCommand {
        let list = try request.array("items")
        // Checked before reading the items, so a request with 10,000 of them is refused cheaply.
        do { try OrderRules.checkItemCount(list.count) } catch { throw APIError(error) }
        var items: [OrderItem] = []
        items.reserveCapacity(list.count)
        for (index, element) in list.enumerated() {
            guard case .object(let object) = element else {
                throw APIError(.invalidRequest, "items[\(index)] must be an object")
            }
            let item = RequestFields(object: object)
            try item.only([fields.sku, fields.name, fields.quantity, fields.price], besides: [])
            guard let price = item.value(fields.price) else { throw APIError(.invalidRequest, "items[\(index)].\(fields.price) is required") }
            guard let quantity = item.value(fields.quantity) else { throw APIError(.invalidRequest, "items[\(index)].\(fields.quantity) is required") }
            items.append(OrderItem(sku: try item.string(fields.sku), name: try item.string(fields.name),
                                   quantity: try RequestFields.integer(quantity, "items[\(index)].\(fields.quantity)"),
                                   unitPrice: try RequestFields.money(price, "items[\(index)].\(fields.price)")))
        }
        return OrderCommand.create(customerName: try request.string("customerName"),
                                   customerEmail: try request.string("customerEmail"), items: items)
    }
}

import Foundation
import OrdersDomain
import OrdersEventLog
import OrdersWriteSide
import OrdersReadSide
import RedisClient

/// Commands: each request becomes one `CommandHandler` call; domain and store refusals become
/// their wire codes.
extension RequestRouter {
    // MARK: - Commands

    func createOrder(_ request: RequestFields) async throws -> Any {
        try await command(request, try Self.createCommand(request, fields: .lineProtocol), orderId: nil)
    }

    /// What an item's fields are called: the line protocol's names, or the REST API's (the
    /// original design's).
    struct ItemFieldNames {
        let sku: String, name: String, quantity: String, price: String
        static let lineProtocol = ItemFieldNames(sku: "sku", name: "name", quantity: "quantity", price: "unitPrice")
        static let rest = ItemFieldNames(sku: "productId", name: "productName", quantity: "quantity", price: "price")
    }

    /// The create command a request describes: the customer and the items, checked.
    static func createCommand(_ request: RequestFields, fields: ItemFieldNames) throws(APIError) -> OrderCommand {
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

    func command(_ request: RequestFields, _ command: OrderCommand) async throws -> Any {
        try await self.command(request, command, orderId: try request.string("orderId"))
    }

    func command(_ request: RequestFields, _ command: OrderCommand, orderId: String?) async throws -> Any {
        OrderJSON.appendResult(try await execute(CommandHandler.Request(
            orderId: orderId, command: command, expectedVersion: try request.optionalInt("expectedVersion"),
            commandId: try request.optionalString("commandId"), correlationId: try request.optionalString("correlationId"))))
    }

    /// Runs one command (held back while the read models are too far behind); refusals become
    /// their wire errors. Shared by the line protocol and HTTP.
    func execute(_ request: CommandHandler.Request) async throws(APIError) -> AppendResult {
        do {
            await throttle?.admit()
            let result = try await commands.handle(request)
            metrics.command(outcome: result.duplicate ? "duplicate" : "appended", events: result.duplicate ? 0 : result.positions.count)
            return result
        } catch {
            let refusal = switch error {
            case .domain(let domain): APIError(domain)
            case .store(let store): APIError(store)
            case .commandIdReused(let message): APIError(.commandIdReused, message)
            }
            metrics.command(outcome: refusal.code.rawValue)
            throw refusal
        }
    }
}

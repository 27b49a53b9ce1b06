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
        let list = try request.array("items")
        // Checked before reading the items, so a request with 10,000 of them is refused cheaply.
        do { try OrderRules.checkItemCount(list.count) } catch { throw APIError(error) }
        var items: [OrderItem] = []
        items.reserveCapacity(list.count)
        for (index, element) in list.enumerated() {
            guard case .object(let object) = element else {
                throw APIError(.invalidRequest, "items[\(index)] must be an object")
            }
            let fields = RequestFields(object: object)
            guard let price = fields.value("unitPrice") else { throw APIError(.invalidRequest, "items[\(index)].unitPrice is required") }
            guard let quantity = fields.value("quantity") else { throw APIError(.invalidRequest, "items[\(index)].quantity is required") }
            items.append(OrderItem(sku: try fields.string("sku"), name: try fields.string("name"),
                                   quantity: try RequestFields.integer(quantity, "items[\(index)].quantity"),
                                   unitPrice: try RequestFields.money(price, "items[\(index)].unitPrice")))
        }
        let create = OrderCommand.create(customerName: try request.string("customerName"),
                                         customerEmail: try request.string("customerEmail"), items: items)
        return try await command(request, create, orderId: nil)
    }

    func command(_ request: RequestFields, _ command: OrderCommand) async throws -> Any {
        try await self.command(request, command, orderId: try request.string("orderId"))
    }

    func command(_ request: RequestFields, _ command: OrderCommand, orderId: String?) async throws -> Any {
        let handled = CommandHandler.Request(
            orderId: orderId, command: command, expectedVersion: try request.optionalInt("expectedVersion"),
            commandId: try request.optionalString("commandId"), correlationId: try request.optionalString("correlationId"))
        do {
            await throttle?.admit()
            return OrderJSON.appendResult(try await commands.handle(handled))
        } catch {
            switch error {
            case .domain(let domain): throw APIError(domain)
            case .store(let store): throw APIError(store)
            }
        }
    }
}

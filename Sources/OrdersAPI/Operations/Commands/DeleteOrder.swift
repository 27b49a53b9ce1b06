import OrdersDomain
import OrdersEventLog
import OrdersWriteSide

/// Deletes an order: its events stay in its stream, the read models forget it. Line:
/// `{orderId}`; HTTP: `DELETE /api/v1/orders/order/{orderId}`.
enum DeleteOrder: OrderCommandOperation {
    static let name = "deleteOrder"
    static let route = HTTPRoute.delete("/api/v1/orders/order/{orderId}")

    static func input(line request: RequestFields) throws(APIError) -> Input {
        try self.request(.delete, line: request, orderId: try request.string("orderId"))
    }

    static func input(http call: HTTPCall) throws(APIError) -> Input {
        return try request(.delete, http: call, orderId: call.parameter("orderId"))
    }

    static func message(_ input: Input) -> String { "Order deleted" }
}

import OrdersDomain
import OrdersEventLog
import OrdersWriteSide

/// Cancels an order, with an optional reason. Line: `{orderId, reason?}`; HTTP:
/// `PUT /api/v1/orders/order/{orderId}/cancel` with `{reason?}`.
enum CancelOrder: OrderCommandOperation {
    static let name = "cancelOrder"
    static let route = HTTPRoute.put("/api/v1/orders/order/{orderId}/cancel")

    static func input(line request: RequestFields) throws(APIError) -> Input {
        try self.request(.cancel(reason: try request.optionalString("reason")), line: request, orderId: try request.string("orderId"))
    }

    static func input(http call: HTTPCall) throws(APIError) -> Input {
        let body = try call.body(taking: ["reason"])
        return try request(.cancel(reason: try body.optionalString("reason")), http: call, orderId: call.parameter("orderId"))
    }

    static func message(_ input: Input) -> String { "Order cancelled" }
}

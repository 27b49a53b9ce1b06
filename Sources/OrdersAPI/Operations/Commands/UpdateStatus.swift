import OrdersDomain
import OrdersEventLog
import OrdersWriteSide

/// Moves an order to another status (the rules of `OrderStatus` decide which moves are allowed).
/// Line: `{orderId, status}`; HTTP: `PUT /api/v1/orders/order/{orderId}/status` with `{status}`.
enum UpdateStatus: OrderCommandOperation {
    static let name = "updateStatus"
    static let route = HTTPRoute.put("/api/v1/orders/order/{orderId}/status")

    static func input(line request: RequestFields) throws(APIError) -> Input {
        try self.request(.updateStatus(try status(request)), line: request, orderId: try request.string("orderId"))
    }

    static func input(http call: HTTPCall) throws(APIError) -> Input {
        let body = try call.body(taking: ["status"])
        return try request(.updateStatus(try status(body)), http: call, orderId: call.parameter("orderId"))
    }

    static func message(_ input: Input) -> String {
        guard case .updateStatus(let status) = input.command else { return "Order status updated" }
        return "Order status updated to \(status.rawValue)"
    }

    /// The status to move to: a domain rule's refusal (`validation_failed`) when unknown.
    static func status(_ request: RequestFields) throws(APIError) -> OrderStatus {
        try RequestFields.status(try request.string("status"), .validationFailed)
    }
}

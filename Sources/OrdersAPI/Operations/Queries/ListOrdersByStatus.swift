import OrdersDomain
import OrdersEventLog
import OrdersReadSide

/// Orders in one status, newest first (the status index).
enum ListOrdersByStatus: OrderIndexListing {
    static let name = "ordersByStatus"
    static let route = HTTPRoute.get("/api/v1/orders/status/{status}")

    static func input(line request: RequestFields) throws(APIError) -> Input {
        guard let text = try request.optionalString("status") else { throw APIError(.invalidRequest, "status is required") }
        var input = Input(limit: try request.optionalInt("limit") ?? 50, paging: .cursor(try request.optionalString("cursor")),
                          minPosition: try request.minPosition())
        input.filter.status = try RequestFields.status(text, .invalidRequest)
        return input
    }

    static func input(http call: HTTPCall) throws(APIError) -> Input {
        var input = Input(limit: try call.integer("limit", default: 50, in: 1...1000), paging: .cursor(nil),
                          minPosition: try call.minPosition())
        input.filter.status = try RequestFields.status(call.parameter("status"), .invalidRequest)
        return input
    }
}

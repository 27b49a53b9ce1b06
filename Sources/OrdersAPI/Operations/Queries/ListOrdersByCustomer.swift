import OrdersDomain
import OrdersEventLog
import OrdersReadSide

/// One customer's orders, newest first (the customer index).
enum ListOrdersByCustomer: OrderIndexListing {
    static let name = "ordersByCustomer"
    static let route = HTTPRoute.get("/api/v1/orders/customer/{email}")

    static func input(line request: RequestFields) throws(APIError) -> Input {
        var input = Input(limit: try request.optionalInt("limit") ?? 50, paging: .cursor(try request.optionalString("cursor")),
                          minPosition: try request.minPosition())
        input.filter.customerEmail = try request.string("customerEmail")
        return input
    }

    static func input(http call: HTTPCall) throws(APIError) -> Input {
        var input = Input(limit: try call.integer("limit", default: 50, in: 1...1000), paging: .cursor(nil),
                          minPosition: try call.minPosition())
        input.filter.customerEmail = call.parameter("email")
        return input
    }
}

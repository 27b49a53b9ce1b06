import OrdersDomain
import OrdersEventLog
import OrdersReadSide

/// Orders in one status, newest first (the status index).
enum ListOrdersByStatus: LineOperation {
    static let name = "ordersByStatus"
    static let route = HTTPRoute.get("/api/v1/orders/status/{status}")

    typealias Input = ListOrders.Input
    typealias Output = ListOrders.Output

    static func input(line request: RequestFields) throws(APIError) -> Input {
        guard let text = try request.optionalString("status") else { throw APIError(.invalidRequest, "status is required") }
        var input = Input(limit: try request.optionalInt("limit") ?? 50, paging: .cursor(try request.optionalString("cursor")),
                          minPosition: try request.minPosition())
        input.filter.status = try status(text, .invalidRequest)
        return input
    }

    static func input(http call: HTTPCall) throws(APIError) -> Input {
        var input = Input(limit: try call.integer("limit", default: 50, in: 1...1000), paging: .cursor(nil),
                          minPosition: try call.minPosition())
        input.filter.status = try status(call.parameter("status"), .invalidRequest)
        return input
    }

    static func perform(_ input: Input, _ api: APIContext) async throws -> Output {
        try await ListOrders.perform(input, api)
    }

    static func result(line output: Output) -> [UInt8] { ListOrders.result(line: output) }

    static func response(http output: Output, to input: Input) throws -> HTTPResponse {
        HTTPResponse(status: 200, body: try RESTOrderJSON.list(output.orders))
    }

    /// A status by its name, or `code` naming the ones there are.
    static func status(_ text: String, _ code: APIError.Code) throws(APIError) -> OrderStatus {
        guard let status = OrderStatus(rawValue: text) else {
            throw APIError(code, "status must be one of \(OrderStatus.allCases.map(\.rawValue).joined(separator: ", ")), got '\(text.prefix(40))'")
        }
        return status
    }
}

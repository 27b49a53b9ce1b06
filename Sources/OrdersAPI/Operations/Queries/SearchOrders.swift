import OrdersDomain
import OrdersEventLog
import OrdersReadSide

/// Orders whose customer, email, items or id contain every word of `q` (prefixes of words),
/// newest first. Words are what the search index folds (`TextFolding`); `q` without any finds
/// nothing.
enum SearchOrders: LineOperation {
    static let name = "search"
    static let route = HTTPRoute.get("/api/v1/orders/search")

    struct Input: Sendable {
        let q: String
        let limit: Int
        let minPosition: [RequestedPosition]
    }

    static func input(line request: RequestFields) throws(APIError) -> Input {
        Input(q: try request.string("q"), limit: try request.optionalInt("limit") ?? 50, minPosition: try request.minPosition())
    }

    static func input(http call: HTTPCall) throws(APIError) -> Input {
        guard let q = call.query["q"], !q.isEmpty else { throw APIError(.invalidRequest, "q is required") }
        return Input(q: q, limit: try call.integer("limit", default: 50, in: 1...1000), minPosition: try call.minPosition())
    }

    static func perform(_ input: Input, _ api: APIContext) async throws -> [OrderView] {
        try await api.queries.search(input.q, limit: input.limit, minPositions: try api.positions(input.minPosition))
    }

    static func result(line orders: [OrderView]) -> [UInt8] { OrderJSON.orders(orders) }

    static func response(http orders: [OrderView], to input: Input) throws -> HTTPResponse {
        HTTPResponse(status: 200, body: try RESTOrderJSON.list(orders))
    }
}

import OrdersDomain
import OrdersEventLog
import OrdersReadSide

/// Orders newest first, filtered by status, customer, creation time and total. The line protocol
/// pages with cursors (`nextCursor`); HTTP with `limit` and `offset` and the number of matches
/// (the original design's `pagination`).
enum ListOrders: LineOperation {
    static let name = "listOrders"
    static let route = HTTPRoute.get("/api/v1/orders")

    enum Paging: Sendable {
        case cursor(String?)
        /// Offsets walk the newest-first listing: bounded, so a page costs at most ~10,000 orders.
        case offset(Int)
    }

    struct Input: Sendable {
        var filter = QueryHandler.ListFilter()
        var limit: Int
        var paging: Paging
        var minPosition: [RequestedPosition]
    }

    struct Output {
        let orders: [OrderView]
        let nextCursor: String?
        /// HTTP's pagination: whether more match, and how many do.
        var hasMore = false
        var total: (count: Int, exact: Bool)?
    }

    static func input(line request: RequestFields) throws(APIError) -> Input {
        var input = Input(limit: try request.optionalInt("limit") ?? 50, paging: .cursor(try request.optionalString("cursor")),
                          minPosition: try request.minPosition())
        if let text = try request.optionalString("status") { input.filter.status = try RequestFields.status(text, .invalidRequest) }
        input.filter.customerEmail = try request.optionalString("customerEmail")
        if request.has("createdFrom") { input.filter.createdFrom = try request.timestamp("createdFrom") }
        if request.has("createdTo") { input.filter.createdTo = try request.timestamp("createdTo") }
        input.filter.minTotal = try request.optionalMoney("minTotal")
        input.filter.maxTotal = try request.optionalMoney("maxTotal")
        return input
    }

    static func input(http call: HTTPCall) throws(APIError) -> Input {
        var input = Input(limit: try call.integer("limit", default: 50, in: 1...1000),
                          paging: .offset(try call.integer("offset", default: 0, in: 0...9_000)), minPosition: try call.minPosition())
        if let text = call.query["status"] { input.filter.status = try RequestFields.status(text, .invalidRequest) }
        input.filter.customerEmail = call.query["customerEmail"]
        input.filter.createdFrom = try call.date("fromDate", endOfDay: false)
        input.filter.createdTo = try call.date("toDate", endOfDay: true)
        input.filter.minTotal = try call.amount("minAmount")
        input.filter.maxTotal = try call.amount("maxAmount")
        return input
    }

    static func perform(_ input: Input, _ api: APIContext) async throws -> Output {
        switch input.paging {
        case .cursor(let cursor):
            let page = try await api.queries.list(input.filter, limit: input.limit, cursor: cursor, minPositions: try api.positions(input.minPosition))
            return Output(orders: page.orders, nextCursor: page.nextCursor)
        case .offset(let offset):
            var found: [OrderView] = []
            var cursor: String?
            repeat {
                let page = try await api.queries.list(input.filter, limit: min(1000, offset + input.limit + 1 - found.count),
                                                      cursor: cursor, minPositions: try api.positions(input.minPosition))
                found += page.orders
                cursor = page.nextCursor
            } while found.count <= offset + input.limit && cursor != nil
            let total = try await api.queries.count(input.filter)
            return Output(orders: Array(found.dropFirst(offset).prefix(input.limit)), nextCursor: nil,
                          hasMore: found.count > offset + input.limit, total: (total.count, total.exact))
        }
    }

    static func result(line output: Output) -> [UInt8] {
        OrderJSON.orders(output.orders, nextCursor: output.nextCursor)
    }

    static func response(http output: Output, to input: Input) throws -> HTTPResponse {
        guard case .offset(let offset) = input.paging, let total = output.total else {
            return HTTPResponse(status: 200, body: try RESTOrderJSON.list(output.orders))
        }
        let pagination = "{\"hasMore\":\(output.hasMore),\"limit\":\(input.limit),\"offset\":\(offset),\"total\":\(total.count),\"totalExact\":\(total.exact)}"
        return HTTPResponse(status: 200, body: try RESTOrderJSON.list(output.orders, pagination: pagination))
    }
}

/// A listing of one index (a status's, a customer's orders): the line protocol pages it with
/// cursors like `listOrders`, HTTP answers one page of the REST list.
protocol OrderIndexListing: LineOperation where Input == ListOrders.Input, Output == ListOrders.Output {}

extension OrderIndexListing {
    static func perform(_ input: Input, _ api: APIContext) async throws -> Output {
        try await ListOrders.perform(input, api)
    }

    static func result(line output: Output) -> [UInt8] { ListOrders.result(line: output) }

    static func response(http output: Output, to input: Input) throws -> HTTPResponse {
        HTTPResponse(status: 200, body: try RESTOrderJSON.list(output.orders))
    }
}

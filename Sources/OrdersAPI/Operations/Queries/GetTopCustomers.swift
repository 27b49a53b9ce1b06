import OrdersDomain
import OrdersEventLog
import OrdersReadSide

/// The customers with the most revenue (or, on the line protocol with `by: "count"`, the most
/// orders), exact to the cent.
enum GetTopCustomers: LineOperation {
    static let name = "topCustomers"
    static let route = HTTPRoute.get("/api/v1/orders/top-customers")

    struct Input: Sendable {
        let limit: Int
        let byRevenue: Bool
        let minPosition: [RequestedPosition]
    }

    static func input(line request: RequestFields) throws(APIError) -> Input {
        let minPosition = try request.minPosition()
        let limit = try request.optionalInt("limit") ?? 10
        let by = try request.optionalString("by") ?? "revenue"
        guard by == "revenue" || by == "count" else { throw APIError(.invalidRequest, "by must be revenue or count") }
        return Input(limit: limit, byRevenue: by == "revenue", minPosition: minPosition)
    }

    static func input(http call: HTTPCall) throws(APIError) -> Input {
        Input(limit: try call.integer("limit", default: 10, in: 1...1000), byRevenue: true, minPosition: try call.minPosition())
    }

    struct Output {
        let byRevenue: Bool
        let customers: [QueryHandler.CustomerFigures]
    }

    static func perform(_ input: Input, _ api: APIContext) async throws -> Output {
        Output(byRevenue: input.byRevenue, customers: try await api.queries.topCustomers(
            limit: input.limit, byRevenue: input.byRevenue, minPositions: try api.positions(input.minPosition)))
    }

    static func result(line output: Output) -> [UInt8] {
        JSON.object(["by": output.byRevenue ? "revenue" : "count",
                     "customers": .array(output.customers.map { ["email": .string($0.email), "name": .string($0.name),
                                                                 "orders": JSON($0.orders), "revenue": .string($0.revenue.description)] })]).encoded
    }

    static func response(http output: Output, to input: Input) -> HTTPResponse {
        .data(.array(output.customers.map(rest)))
    }

    /// A customer in the REST shape (also the summary's `topCustomers`).
    static func rest(_ figures: QueryHandler.CustomerFigures) -> JSON {
        ["customerEmail": .string(figures.email), "customerName": .string(figures.name), "orderCount": JSON(figures.orders),
         "totalSpent": .string(figures.revenue.description)]
    }
}

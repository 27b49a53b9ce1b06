import OrdersDomain
import OrdersEventLog
import OrdersReadSide

/// The sales figures. The line protocol answers the summary read model as it is (totals, revenue,
/// statuses, days); HTTP answers the original design's shape, which adds the top ten customers,
/// orders by month and when the summary last applied an event.
enum GetSummary: LineOperation {
    static let name = "summary"
    static let route = HTTPRoute.get("/api/v1/orders/summary")

    struct Input: Sendable {
        let minPosition: [RequestedPosition]
        /// The REST shape: the top customers and the summary's last applied position as well.
        let rest: Bool
    }

    struct Output {
        let summary: QueryHandler.Summary
        var topCustomers: [QueryHandler.CustomerFigures] = []
        var lastApplied: LogPosition?
    }

    static func input(line request: RequestFields) throws(APIError) -> Input {
        Input(minPosition: try request.minPosition(), rest: false)
    }

    static func input(http call: HTTPCall) throws(APIError) -> Input {
        Input(minPosition: try call.minPosition(), rest: true)
    }

    static func perform(_ input: Input, _ api: APIContext) async throws -> Output {
        var output = Output(summary: try await api.queries.summary(minPositions: try api.positions(input.minPosition)))
        guard input.rest else { return output }
        output.topCustomers = try await api.queries.topCustomers(limit: 10, byRevenue: true, minPositions: try api.positions(input.minPosition))
        for log in api.logs.partitions {
            let live = try await LiveGenerations(log: log).live(SummaryProjection.name)
            let applied = try await ProjectionMonitor(log: log).status(projection: SummaryProjection.name, generation: live).lastDelivered
            if let applied { output.lastApplied = max(output.lastApplied ?? applied, applied) }
        }
        return output
    }

    static func result(line output: Output) -> [UInt8] {
        let summary = output.summary
        return JSON.object([
            "totalOrders": JSON(summary.totalOrders),
            "ordersByStatus": .object(Dictionary(uniqueKeysWithValues: summary.ordersByStatus.map { ($0.key.rawValue, JSON($0.value)) })),
            "revenue": .string(summary.revenue.description),
            "averageOrderValue": .string(summary.averageOrderValue.description),
            "days": .array(summary.days.map { ["day": .string($0.day), "orders": JSON($0.orders), "revenue": .string($0.revenue.description)] }),
        ]).encoded
    }

    static func response(http output: Output, to input: Input) -> HTTPResponse {
        let summary = output.summary
        var byMonth: [String: Int] = [:]
        for day in summary.days { byMonth[String(day.day.prefix(7)), default: 0] += day.orders }
        return .data([
            "totalOrders": JSON(summary.totalOrders),
            "totalRevenue": .string(summary.revenue.description),
            "ordersByStatus": .object(Dictionary(uniqueKeysWithValues: summary.ordersByStatus.map { ($0.key.rawValue, JSON($0.value)) })),
            "revenueByStatus": .object(Dictionary(uniqueKeysWithValues: summary.amountByStatus.map { ($0.key.rawValue, .string($0.value.description)) })),
            "ordersByMonth": .object(byMonth.filter { $0.value != 0 }.mapValues(JSON.init)),
            "topCustomers": .array(output.topCustomers.map(GetTopCustomers.rest)),
            "lastUpdated": JSON(output.lastApplied.map { Timestamp(milliseconds: Int64($0.milliseconds)).description }),
        ])
    }
}

import Foundation
import OrdersDomain
import OrdersEventLog
import OrdersWriteSide
import OrdersReadSide
import RedisClient

/// Queries of the read models (never the event streams).
extension RequestRouter {
    // MARK: - Queries (read models only)

    func query(_ op: String, _ request: RequestFields) async throws -> Any {
        let minPosition = try request.optionalString("minPosition").map { text throws(APIError) -> LogPosition in
            guard let position = LogPosition(requested: text) else {
                throw APIError(.invalidRequest, "minPosition must be a log position like 1795375537767-0, got '\(text.prefix(40))'")
            }
            return position
        }
        let limit = try request.optionalInt("limit")
        switch op {
        case "getOrder":
            return RawJSON(try await queries.orderDocument(try request.string("orderId"), minPosition: minPosition))
        case "listOrders", "ordersByStatus", "ordersByCustomer":
            var filter = QueryHandler.ListFilter()
            if op != "ordersByCustomer", let text = try request.optionalString("status") {
                guard let status = OrderStatus(rawValue: text) else {
                    throw APIError(.invalidRequest, "status must be one of \(OrderStatus.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                filter.status = status
            } else if op == "ordersByStatus" {
                throw APIError(.invalidRequest, "status is required")
            }
            if op == "ordersByCustomer" { filter.customerEmail = try request.string("customerEmail") }
            if op == "listOrders" {
                filter.customerEmail = try request.optionalString("customerEmail")
                if request.has("createdFrom") { filter.createdFrom = try request.timestamp("createdFrom") }
                if request.has("createdTo") { filter.createdTo = try request.timestamp("createdTo") }
                filter.minTotal = try request.optionalMoney("minTotal")
                filter.maxTotal = try request.optionalMoney("maxTotal")
            }
            let page = try await queries.list(filter, limit: limit ?? 50, cursor: try request.optionalString("cursor"),
                                               minPosition: minPosition)
            var result: [String: Any] = ["orders": page.orders.map(OrderJSON.view)]
            if let next = page.nextCursor { result["nextCursor"] = next }
            return result
        case "search":
            return ["orders": try await queries.search(try request.string("q"), limit: limit ?? 50, minPosition: minPosition)
                .map(OrderJSON.view)]
        case "summary":
            return OrderJSON.summary(try await queries.summary(minPosition: minPosition))
        default: // topCustomers
            let by = try request.optionalString("by") ?? "revenue"
            guard by == "revenue" || by == "count" else { throw APIError(.invalidRequest, "by must be revenue or count") }
            let customers = try await queries.topCustomers(limit: limit ?? 10, byRevenue: by == "revenue", minPosition: minPosition)
            return ["by": by, "customers": customers.map { ["email": $0.email, "name": $0.name, "orders": $0.orders,
                                                            "revenue": $0.revenue.description] }]
        }
    }
}

import OrdersAPI
import OrdersDomain
import OrdersEventLog
import OrdersReadSide
import TestSupport

/// The third projection's query as an operation: this file and the read-side function
/// (`QueryHandler.ordersPerStatusAndDay`, one partition's counts) are all it takes to serve it over
/// both protocols, from every partition, counted in the metrics under its name. Line: `{"op":"ordersPerStatusAndDay","minPosition"?}`; HTTP:
/// `GET /api/v1/orders/status-day` (with `Orders-Min-Position`).
enum CountOrdersByStatusAndDay: LineOperation {
    static let name = "ordersPerStatusAndDay"
    static let route = HTTPRoute.get("/api/v1/orders/status-day")

    static func input(line request: RequestFields) throws(APIError) -> [RequestedPosition] { try request.minPosition() }

    static func input(http call: HTTPCall) throws(APIError) -> [RequestedPosition] { try call.minPosition() }

    static func perform(_ minPosition: [RequestedPosition], _ api: APIContext) async throws -> JSON {
        let parts = try await api.queries.inEveryPartition(minPositions: try api.positions(minPosition)) {
            try await $0.ordersPerStatusAndDay(minPosition: $1)
        }
        let counts = parts.reduce(into: [String: Int]()) { total, part in total.merge(part, uniquingKeysWith: +) }
        return .object(counts.mapValues { JSON($0) })
    }

    static func result(line counts: JSON) -> [UInt8] { JSON.object(["counts": counts]).encoded }

    static func response(http counts: JSON, to minPosition: [RequestedPosition]) -> HTTPResponse { .data(counts) }
}

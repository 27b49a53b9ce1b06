import OrdersAPI
import OrdersDomain
import OrdersEventLog
import OrdersReadSide
import TestSupport

/// The third projection's query as an operation: this file and the read-side function
/// (`QueryHandler.ordersPerStatusAndDay`) are all it takes to serve it over both protocols, counted
/// in the metrics under its name. Line: `{"op":"ordersPerStatusAndDay","minPosition"?}`; HTTP:
/// `GET /api/v1/orders/status-day` (with `Orders-Min-Position`).
enum CountOrdersByStatusAndDay: LineOperation {
    static let name = "ordersPerStatusAndDay"
    static let route = HTTPRoute.get("/api/v1/orders/status-day")

    static func input(line request: RequestFields) throws(APIError) -> LogPosition? { try request.minPosition() }

    static func input(http call: HTTPCall) throws(APIError) -> LogPosition? { try call.minPosition() }

    static func perform(_ minPosition: LogPosition?, _ api: APIContext) async throws -> JSON {
        let counts = try await api.queries.ordersPerStatusAndDay(minPosition: minPosition)
        return .object(counts.mapValues { JSON($0) })
    }

    static func result(line counts: JSON) -> [UInt8] { JSON.object(["counts": counts]).encoded }

    static func response(http counts: JSON, to minPosition: LogPosition?) -> HTTPResponse { .data(counts) }
}

import OrdersDomain
import OrdersEventLog

/// An order's events as its stream holds them (an operator's call that reads the event stream on
/// purpose): type, version, id, time, log position, data and metadata.
enum GetOrderHistory: LineOperation {
    static let name = "orderHistory"
    static let route = HTTPRoute.get("/api/v1/orders/order/{orderId}/history")

    static func input(line request: RequestFields) throws(APIError) -> String { try request.string("orderId") }

    static func input(http call: HTTPCall) throws(APIError) -> String { call.parameter("orderId") }

    static func perform(_ orderId: String, _ api: APIContext) async throws -> JSON {
        guard Identifier.isValid(orderId) else { throw APIError(.notFound, "order \(orderId.prefix(80)) does not exist") }
        let events: [RecordedEvent]
        do { events = try await api.logs.ofOrder(orderId).events(of: orderId) } catch { throw APIError(any: error) }
        guard !events.isEmpty else { throw APIError(.notFound, "order \(orderId) does not exist") }
        return ["orderId": .string(orderId), "events": .array(events.map { OrderJSON.event($0, position: api.text($0.position, ofOrder: orderId)) })]
    }

    static func result(line history: JSON) -> [UInt8] { history.encoded }

    static func response(http history: JSON, to orderId: String) -> HTTPResponse { .data(history) }
}

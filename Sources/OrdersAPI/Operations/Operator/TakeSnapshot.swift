import OrdersDomain
import OrdersEventLog

/// Takes a snapshot of an order now (an operator's call; the service takes them by itself too).
enum TakeSnapshot: LineOperation {
    static let name = "snapshot"
    static let route = HTTPRoute.post("/api/v1/orders/order/{orderId}/snapshot")

    static func input(line request: RequestFields) throws(APIError) -> String { try request.string("orderId") }

    static func input(http call: HTTPCall) throws(APIError) -> String { call.parameter("orderId") }

    /// The order and the version the snapshot holds.
    static func perform(_ orderId: String, _ api: APIContext) async throws -> JSON {
        guard Identifier.isValid(orderId) else { throw APIError(.notFound, "order \(orderId.prefix(80)) does not exist") }
        let version = try await api.loader.snapshotNow(orderId)
        guard version > 0 else { throw APIError(.notFound, "order \(orderId) does not exist") }
        return ["orderId": .string(orderId), "version": JSON(version)]
    }

    static func result(line snapshot: JSON) -> [UInt8] { snapshot.encoded }

    static func response(http snapshot: JSON, to orderId: String) -> HTTPResponse { .data(snapshot) }
}

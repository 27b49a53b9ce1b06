import OrdersDomain
import OrdersEventLog
import OrdersReadSide

/// One order from the read model. The line protocol hands out its stored record as it is; HTTP
/// renames its keys into the REST shape without decoding it (`RESTOrderJSON`), with the order's
/// version as the ETag.
enum GetOrder: LineOperation {
    static let name = "getOrder"
    static let route = HTTPRoute.get("/api/v1/orders/order/{orderId}")

    struct Input: Sendable {
        let orderId: String
        let minPosition: [RequestedPosition]
    }

    static func input(line request: RequestFields) throws(APIError) -> Input {
        Input(orderId: try request.string("orderId"), minPosition: try request.minPosition())
    }

    static func input(http call: HTTPCall) throws(APIError) -> Input {
        Input(orderId: call.parameter("orderId"), minPosition: try call.minPosition())
    }

    /// The order's stored record.
    static func perform(_ input: Input, _ api: APIContext) async throws -> [UInt8] {
        try await api.queries.orderDocument(input.orderId, minPositions: try api.positions(input.minPosition))
    }

    static func result(line record: [UInt8]) -> [UInt8] { record }

    static func response(http record: [UInt8], to input: Input) throws -> HTTPResponse {
        // A record in another form than this build writes is decoded and written the long way.
        let (body, version) = try RESTOrderJSON.one(record: record) ?? RESTOrderJSON.one(try OrderProjection.decode(record))
        return HTTPResponse(status: 200, headers: [("ETag", "\"\(version)\"")], body: body)
    }
}

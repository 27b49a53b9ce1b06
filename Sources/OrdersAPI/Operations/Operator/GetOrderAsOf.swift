import OrdersDomain
import OrdersEventLog
import OrdersReadSide

/// An order as it was at a time, folded from its events (an operator's call that reads the event
/// stream on purpose). The line protocol answers the aggregate's state; HTTP the REST order
/// shape with its version as the ETag.
enum GetOrderAsOf: LineOperation {
    static let name = "orderAsOf"
    static let route = HTTPRoute.get("/api/v1/orders/order/{orderId}/as-of")

    struct Input: Sendable {
        let orderId: String
        let at: Timestamp
    }

    static func input(line request: RequestFields) throws(APIError) -> Input {
        Input(orderId: try request.string("orderId"), at: try request.timestamp("at"))
    }

    static func input(http call: HTTPCall) throws(APIError) -> Input {
        guard let at = try call.date("at", endOfDay: false) else {
            throw APIError(.invalidRequest, "at is required (a UTC time like 2026-11-23T10:00:00Z)")
        }
        return Input(orderId: call.parameter("orderId"), at: at)
    }

    static func perform(_ input: Input, _ api: APIContext) async throws -> OrderAggregate {
        guard Identifier.isValid(input.orderId) else { throw APIError(.notFound, "order \(input.orderId.prefix(80)) does not exist") }
        let aggregate: OrderAggregate
        do { aggregate = try await api.loader.load(input.orderId, asOf: input.at) } catch {
            throw APIError(EventStoreError.from(error))
        }
        guard let state = aggregate.state else { throw APIError(.notFound, "order \(input.orderId) did not exist at \(input.at)") }
        guard !state.deleted else { throw APIError(.notFound, "order \(input.orderId) was deleted at \(state.updatedAt)") }
        return aggregate
    }

    static func result(line aggregate: OrderAggregate) -> [UInt8] { OrderJSON.aggregate(aggregate).encoded }

    static func response(http aggregate: OrderAggregate, to input: Input) throws -> HTTPResponse {
        guard let view = OrderView(aggregate) else { throw APIError(.notFound, "order \(input.orderId) was deleted") }
        let (body, version) = try RESTOrderJSON.one(view)
        return HTTPResponse(status: 200, headers: [("ETag", "\"\(version)\"")], body: body)
    }
}

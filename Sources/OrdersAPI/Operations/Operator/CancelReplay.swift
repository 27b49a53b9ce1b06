import OrdersDomain
import OrdersReadSide

/// Cancels the running replay (a rebuild's new generations are dropped; the live ones stay) and
/// answers its status.
enum CancelReplay: LineOperation {
    static let name = "cancelReplay"
    static let route = HTTPRoute.delete("/api/v1/replay")

    static func input(line request: RequestFields) throws(APIError) {}

    static func input(http call: HTTPCall) throws(APIError) {}

    static func perform(_ input: Void, _ api: APIContext) async throws -> ReplayStatus? {
        try await api.replay.cancel()
        return try await api.replay.status()
    }

    static func result(line status: ReplayStatus?) -> [UInt8] { GetReplayStatus.json(status).encoded }

    static func response(http status: ReplayStatus?, to input: Void) -> HTTPResponse { .data(GetReplayStatus.json(status)) }
}

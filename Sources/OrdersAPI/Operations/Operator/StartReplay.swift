import OrdersDomain
import OrdersReadSide

/// Starts a replay in the background and answers its status at once (HTTP: 202): one order
/// (`orderId`), every event from a time (`from`, in place), or a rebuild of one projection or all
/// (`projection`, none: all) into new generations. Anything that stops it from starting (an
/// unknown order or projection, another replay running) is the answer.
enum StartReplay: LineOperation {
    static let name = "replay"
    static let route = HTTPRoute.post("/api/v1/replay")

    enum Input: Sendable {
        case order(String)
        case from(Timestamp)
        /// nil or "all": every projection.
        case rebuild(projection: String?)
    }

    static let fields: Set<String> = ["orderId", "from", "projection"]

    static func input(line request: RequestFields) throws(APIError) -> Input {
        try request.only(fields)
        return try input(request)
    }

    static func input(http call: HTTPCall) throws(APIError) -> Input {
        try input(try call.body(taking: fields))
    }

    /// One of `orderId`, `from` or `projection`, none set to null.
    private static func input(_ request: RequestFields) throws(APIError) -> Input {
        if let null = fields.sorted().first(where: { request.object[$0] == .null }) {
            throw APIError(.invalidRequest, "\(null) must be a string (leave it out to rebuild every projection)")
        }
        let given = ["orderId", "from", "projection"].filter(request.has)
        guard given.count <= 1 else {
            throw APIError(.invalidRequest, "give one of orderId, from and projection, not \(given.joined(separator: " and "))")
        }
        if let orderId = try request.optionalString("orderId") { return .order(orderId) }
        if request.has("from") { return .from(try request.timestamp("from")) }
        return .rebuild(projection: try request.optionalString("projection"))
    }

    static func perform(_ input: Input, _ api: APIContext) async throws -> ReplayStatus {
        let what: ReplayService.Request
        switch input {
        case .order(let orderId): what = .order(orderId)
        case .from(let time): what = .from(time)
        case .rebuild(let projection):
            let names = api.replay.projections.names
            let projection = projection ?? "all"
            guard projection == "all" || names.contains(projection) else {
                throw APIError(.invalidRequest, "projection must be one of \((names + ["all"]).joined(separator: ", ")), got '\(projection.prefix(40))'")
            }
            what = .rebuild(projection == "all" ? names : [projection])
        }
        return try await api.replay.start(what)
    }

    static func result(line status: ReplayStatus) -> [UInt8] { GetReplayStatus.json(status).encoded }

    static func response(http status: ReplayStatus, to input: Input) -> HTTPResponse {
        .data(GetReplayStatus.json(status), status: 202)
    }
}

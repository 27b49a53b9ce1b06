import OrdersDomain
import OrdersReadSide

/// The replay's status (`{}` before the first); with `waitMs` and `untilPhase`, answered once the
/// replay reaches one of those phases (checked every 10 ms) or when the wait is over, so a client
/// follows a replay without polling on a timer of its own. Without `untilPhase` it answers at once.
enum GetReplayStatus: LineOperation {
    static let name = "replayStatus"
    static let route = HTTPRoute.get("/api/v1/replay")

    /// Longest `waitMs`: a long-poll shorter than any client's patience.
    static let maxWait = 2_000

    struct Input: Sendable {
        var waitMs = 0
        var phases: Set<ReplayStatus.Phase> = []
    }

    static func input(line request: RequestFields) throws(APIError) -> Input {
        let wait = try request.optionalInt("waitMs") ?? 0
        guard (0...maxWait).contains(wait) else { throw APIError(.invalidRequest, "waitMs must be between 0 and \(maxWait)") }
        guard let list = request.object["untilPhase"] else { return Input(waitMs: wait) }
        let names = list.array?.compactMap(\.string) ?? []
        guard names.count == list.array?.count else { throw phaseError }
        return Input(waitMs: wait, phases: try phases(names))
    }

    static func input(http call: HTTPCall) throws(APIError) -> Input {
        let wait = try call.integer("waitMs", default: 0, in: 0...maxWait)
        guard let list = call.query["untilPhase"] else { return Input(waitMs: wait) }
        return Input(waitMs: wait, phases: try phases(list.split(separator: ",", omittingEmptySubsequences: false).map(String.init)))
    }

    private static func phases(_ names: [String]) throws(APIError) -> Set<ReplayStatus.Phase> {
        let phases = names.compactMap(ReplayStatus.Phase.init(rawValue:))
        guard !phases.isEmpty, phases.count == names.count else { throw phaseError }
        return Set(phases)
    }

    private static var phaseError: APIError {
        APIError(.invalidRequest, "untilPhase must name one or more replay phases: "
                 + ReplayStatus.Phase.allCases.map(\.rawValue).joined(separator: ", "))
    }

    static func perform(_ input: Input, _ api: APIContext) async throws -> ReplayStatus? {
        let deadline = ContinuousClock.now + .milliseconds(Int64(input.phases.isEmpty ? 0 : input.waitMs))
        while true {
            let status = try await api.replay.status()
            if let status, input.phases.contains(status.phase) { return status }
            guard ContinuousClock.now < deadline else { return status }
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    static func result(line status: ReplayStatus?) -> [UInt8] { json(status).encoded }

    static func response(http status: ReplayStatus?, to input: Input) -> HTTPResponse { .data(json(status)) }

    static func json(_ status: ReplayStatus?) -> JSON {
        guard let status else { return .object([:]) }
        let seconds = Double(max(1, status.heartbeat.milliseconds - status.startedAt.milliseconds)) / 1000
        var object: [String: JSON] = [
            "id": .string(status.id), "kind": .string(status.kind), "projections": .array(status.projections.map(JSON.string)),
            "generations": .array(status.generations.map { JSON($0) }), "phase": .string(status.phase.rawValue),
            "done": JSON(status.done), "total": JSON(status.total), "startedAt": .string(status.startedAt.description),
            "heartbeat": .string(status.heartbeat.description), "alive": .bool(status.isAlive),
            "ratePerSecond": .double(Double(status.done) / seconds)]
        if let from = status.from { object["from"] = .string(from) }
        if let orderId = status.orderId { object["orderId"] = .string(orderId) }
        if let error = status.error { object["error"] = .string(error) }
        return .object(object)
    }
}

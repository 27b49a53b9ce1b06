import OrdersDomain
import OrdersReadSide

/// Each projection's live generation, lag, pending entries, consumers, dead letters and schema;
/// the running replay; the write throttle.
enum GetProjectionStatus: LineOperation {
    static let name = "projectionStatus"
    static let route = HTTPRoute.get("/api/v1/projections")

    static func input(line request: RequestFields) throws(APIError) {}

    static func input(http call: HTTPCall) throws(APIError) {}

    static func perform(_ input: Void, _ api: APIContext) async throws -> JSON {
        let reports = try await ReadSideOperator(log: api.log, projections: api.replay.projections).reports()
        var result: [String: JSON] = ["projections": .array(reports.map { report -> JSON in
            let status = report.status
            return ["projection": .string(status.projection), "group": .string(status.group), "generation": JSON(status.generation),
                    "lastDelivered": JSON(status.lastDelivered?.description), "lagEvents": JSON(status.lagEvents),
                    "lagMilliseconds": .int(Int64(status.lagMilliseconds)), "pending": JSON(status.pending),
                    "consumers": JSON(status.consumers), "deadLettered": JSON(status.deadLettered),
                    "schema": ["built": JSON(report.builtSchema), "current": JSON(report.currentSchema)],
                    "needsRebuild": .bool(report.needsRebuild)]
        })]
        if let status = try await api.replay.status() { result["replay"] = GetReplayStatus.json(status) }
        if let throttle = api.throttle {
            let now = throttle.snapshot
            result["writeThrottle"] = ["maxBacklog": JSON(throttle.maxBacklog), "backlog": JSON(now.backlog),
                                       "heldCommands": JSON(now.held), "throttling": .bool(now.backlog > throttle.maxBacklog)]
        }
        return .object(result)
    }

    static func result(line status: JSON) -> [UInt8] { status.encoded }

    static func response(http status: JSON, to input: Void) -> HTTPResponse { .data(status) }
}

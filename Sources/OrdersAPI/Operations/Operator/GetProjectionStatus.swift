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
        let partitioned = api.logs.layout.count > 1
        let reports = try await api.projectionReports()
        var result: [String: JSON] = ["projections": .array(reports.map { partition, report -> JSON in
            let status = report.status
            var fields: [String: JSON] = ["projection": .string(status.projection), "group": .string(status.group), "generation": JSON(status.generation),
                    "lastDelivered": JSON(status.lastDelivered?.description), "lagEvents": JSON(status.lagEvents),
                    "lagMilliseconds": .int(Int64(status.lagMilliseconds)), "pending": JSON(status.pending),
                    "consumers": JSON(status.consumers), "deadLettered": JSON(status.deadLettered),
                    "schema": ["built": JSON(report.builtSchema), "current": JSON(report.currentSchema)],
                    "needsRebuild": .bool(report.needsRebuild)]
            if partitioned { fields["partition"] = JSON(partition) }
            return .object(fields)
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

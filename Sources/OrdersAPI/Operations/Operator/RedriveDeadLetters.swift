import OrdersDomain
import OrdersReadSide

/// Applies dead-lettered entries again (all, or the one `deadLetterId` names); answers which
/// were applied and which failed again.
enum RedriveDeadLetters: LineOperation {
    static let name = "redriveDeadLetters"
    static let route = HTTPRoute.post("/api/v1/dead-letters/redrive")

    static func input(line request: RequestFields) throws(APIError) -> String? {
        try request.only(["deadLetterId"])
        return try request.optionalString("deadLetterId")
    }

    static func input(http call: HTTPCall) throws(APIError) -> String? {
        try call.body(taking: ["deadLetterId"]).optionalString("deadLetterId")
    }

    static func perform(_ deadLetterId: String?, _ api: APIContext) async throws -> JSON {
        var redriven: [String] = [], failed: [String] = []
        for log in api.logs.partitions {
            let outcome = try await ReadSideOperator(log: log, projections: api.replay.projections).redrive(only: deadLetterId)
            redriven += outcome.redriven
            failed += outcome.failed
        }
        return ["redriven": .array(redriven.map(JSON.string)), "failed": .array(failed.map(JSON.string))]
    }

    static func result(line outcome: JSON) -> [UInt8] { outcome.encoded }

    static func response(http outcome: JSON, to deadLetterId: String?) -> HTTPResponse { .data(outcome) }
}

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
        let outcome = try await ReadSideOperator(log: api.log, projections: api.replay.projections).redrive(only: deadLetterId)
        return ["redriven": .array(outcome.redriven.map(JSON.string)), "failed": .array(outcome.failed.map(JSON.string))]
    }

    static func result(line outcome: JSON) -> [UInt8] { outcome.encoded }

    static func response(http outcome: JSON, to deadLetterId: String?) -> HTTPResponse { .data(outcome) }
}

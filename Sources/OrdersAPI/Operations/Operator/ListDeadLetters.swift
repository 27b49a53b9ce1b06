import OrdersDomain
import OrdersReadSide

/// The log entries a projection gave up on: which, where, after how many attempts, and why.
enum ListDeadLetters: LineOperation {
    static let name = "deadLetters"
    static let route = HTTPRoute.get("/api/v1/dead-letters")

    static func input(line request: RequestFields) throws(APIError) -> Int { try request.optionalInt("limit") ?? 100 }

    static func input(http call: HTTPCall) throws(APIError) -> Int { try call.integer("limit", default: 100, in: 1...10_000) }

    static func perform(_ limit: Int, _ api: APIContext) async throws -> JSON {
        var letters: [DeadLetters.Letter] = []
        for log in api.logs.partitions { letters += try await DeadLetters(log: log).list(limit: limit) }
        letters = Array(letters.prefix(limit))
        return ["deadLetters": .array(letters.map { ["id": .string($0.id), "projection": .string($0.projection), "logId": .string($0.logId),
                                                     "attempts": JSON($0.attempts), "error": .string($0.error), "at": .string($0.at)] })]
    }

    static func result(line letters: JSON) -> [UInt8] { letters.encoded }

    static func response(http letters: JSON, to limit: Int) -> HTTPResponse { .data(letters) }
}

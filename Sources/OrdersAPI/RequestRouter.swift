import Foundation
import OrdersDomain
import OrdersEventLog
import OrdersWriteSide
import OrdersReadSide
import RedisClient

/// Turns one request line into one response line. Every failure becomes an error response with
/// a documented code: nothing a client sends can throw past this type or end the connection,
/// except a line over the size limit, which the server itself answers.
public final class RequestRouter: Sendable {
    let commands: CommandHandler
    let queries: QueryHandler
    let replay: ReplayService
    /// The operator calls that read the event streams on purpose (history, as-of, snapshots).
    let log: EventLog
    let loader: OrderLoader
    let token: String?
    /// Holds commands back while the read models are too far behind (nil: never).
    let throttle: WriteThrottle?
    /// What requests and commands count, for `/metrics` (shared with the HTTP router).
    public let metrics: ServiceMetrics

    public init(commands: CommandHandler, queries: QueryHandler, replay: ReplayService, token: String? = nil,
                throttle: WriteThrottle? = nil, metrics: ServiceMetrics = ServiceMetrics()) {
        self.throttle = throttle
        self.metrics = metrics
        self.commands = commands
        self.queries = queries
        self.replay = replay
        self.log = queries.log
        self.loader = OrderLoader(log: queries.log)
        self.token = token
    }

    /// The operations a request may name (anything else is counted as `unknown`).
    static let operations: Set<String> = [
        "createOrder", "updateStatus", "cancelOrder", "deleteOrder", "getOrder", "listOrders", "ordersByStatus",
        "ordersByCustomer", "summary", "topCustomers", "search", "projectionStatus", "replay", "replayStatus",
        "cancelReplay", "snapshot", "deadLetters", "redriveDeadLetters", "orderHistory", "orderAsOf", "health",
    ]

    /// Answers one request line and counts it (`ServiceMetrics.request`).
    public func respond(to line: [UInt8]) async -> [UInt8] {
        let start = ContinuousClock.now
        let (operation, outcome, answer) = await answer(line)
        metrics.request(protocol: "line", operation: operation, outcome: outcome, seconds: (ContinuousClock.now - start).seconds)
        return answer
    }

    private func answer(_ line: [UInt8]) async -> (operation: String, outcome: String, [UInt8]) {
        let parsed: (value: JSON, raw: ArraySlice<UInt8>?)
        do {
            parsed = try JSON.parse(bytes: line, rawValueOf: "id")
        } catch {
            let error = APIError(.invalidJSON, "the request is not valid JSON (one UTF-8 JSON object per line): \(error)")
            return ("unknown", error.code.rawValue, Self.encode(id: RawJSON.null, error: error))
        }
        guard case .object(let object) = parsed.value else {
            let error = APIError(.invalidRequest, "a request must be a JSON object")
            return ("unknown", error.code.rawValue, Self.encode(id: RawJSON.null, error: error))
        }
        var operation = "unknown"
        if case .string(let op)? = object["op"], Self.operations.contains(op) { operation = op }
        // The id goes back exactly as the client wrote it, byte for byte.
        let id = parsed.raw.map { RawJSON(Array($0)) } ?? RawJSON.null
        do {
            let result = try await route(RequestFields(object: object))
            return (operation, "ok", Self.encode(id: id, result: result))
        } catch {
            let refusal = HTTPRouter.apiError(error)
            return (operation, refusal.code.rawValue, Self.encode(id: id, error: refusal))
        }
    }

    private func route(_ request: RequestFields) async throws -> Any {
        if let token {
            guard case .string(let given)? = request.object["token"], Self.constantTimeEqual(given, token) else {
                throw APIError(.unauthorized, "a valid token is required")
            }
        }
        let op = try request.string("op")
        switch op {
        case "createOrder": return try await createOrder(request)
        case "updateStatus":
            let text = try request.string("status")
            guard let status = OrderStatus(rawValue: text) else {
                throw APIError(.validationFailed, "status must be one of \(OrderStatus.allCases.map(\.rawValue).joined(separator: ", ")), got '\(text.prefix(40))'")
            }
            return try await command(request, .updateStatus(status))
        case "cancelOrder": return try await command(request, .cancel(reason: try request.optionalString("reason")))
        case "deleteOrder": return try await command(request, .delete)
        case "getOrder", "listOrders", "ordersByStatus", "ordersByCustomer", "summary", "topCustomers", "search":
            return try await query(op, request)
        case "projectionStatus": return try await projectionStatus()
        case "replay": return try await startReplay(request)
        case "replayStatus": return try await replayStatus(request)
        case "cancelReplay":
            try await replay.cancel()
            return try await replayStatus(RequestFields(object: [:]))
        case "snapshot": return try await snapshot(try request.string("orderId"))
        case "deadLetters": return try await deadLetters(request)
        case "redriveDeadLetters": return try await redrive(request)
        case "orderHistory": return try await orderHistory(request)
        case "orderAsOf": return try await orderAsOf(request)
        case "health": return await health()
        default:
            throw APIError(.invalidRequest, "unknown op '\(op.prefix(40))'")
        }
    }

    /// Takes a snapshot of an order now (an operator's call; the service takes them by itself too).
    func snapshot(_ orderId: String) async throws -> [String: Any] {
        guard Identifier.isValid(orderId) else { throw APIError(.notFound, "order \(orderId.prefix(80)) does not exist") }
        let version = try await loader.snapshotNow(orderId)
        guard version > 0 else { throw APIError(.notFound, "order \(orderId) does not exist") }
        return ["orderId": orderId, "version": version]
    }

    // MARK: - Encoding

    /// `{"id":…,"ok":true,"result":…}`. A result already written as JSON (an order's stored
    /// record, a command's outcome) is copied in as it is; other results are encoded.
    static func encode(id: RawJSON, result: Any) -> [UInt8] {
        guard let raw = result as? RawJSON else { return serialize(["id": id, "ok": true, "result": result]) }
        var line: [UInt8] = []
        line.reserveCapacity(raw.bytes.count + id.bytes.count + 32)
        line += #"{"id":"#.utf8
        line += id.bytes
        line += #","ok":true,"result":"#.utf8
        line += raw.bytes
        line.append(UInt8(ascii: "}"))
        return line
    }

    /// `{"error":{"code":…,"message":…,<details>},"id":…,"ok":false}`, keys sorted, written
    /// directly (conflicts are frequent answers under contention).
    static func encode(id: RawJSON, error: APIError) -> [UInt8] {
        var json = JSONWriter()
        json.raw(#"{"error":{"#)
        var fields: [(String, any Sendable)] = error.details.map { ($0.key, $0.value) }
        fields += [("code", error.code.rawValue), ("message", error.message)]
        for (index, (key, value)) in fields.sorted(by: { $0.0.utf8.lexicographicallyPrecedes($1.0.utf8) }).enumerated() {
            json.key(key, first: index == 0)
            switch value {
            case let number as Int: json.raw(String(number))
            case let text as String: json.string(text)
            default: json.string("\(value)")
            }
        }
        json.raw(#"},"id":"#)
        var line = json.bytes
        line += id.bytes
        line += #","ok":false}"#.utf8
        return line
    }

    private static func serialize(_ object: [String: Any]) -> [UInt8] {
        if let line = try? JSONLineEncoder.encode(object) { return line }
        // Only an id that cannot be written back (impossible for one that was parsed) lands here.
        return Array(#"{"id":null,"ok":false,"error":{"code":"internal","message":"unencodable response"}}"#.utf8)
    }

    static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        guard x.count == y.count else { return false }
        return zip(x, y).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }
}

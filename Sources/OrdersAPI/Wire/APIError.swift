import OrdersDomain
import OrdersEventLog
import OrdersWriteSide
import OrdersReadSide
import RedisClient

/// An error as the client sees it: a stable code and a message for the person who sent the
/// request, plus details where a program needs them (a conflict's versions).
public struct APIError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable, CaseIterable {
        /// The line is not JSON (or not UTF-8).
        case invalidJSON = "invalid_json"
        /// Valid JSON but not a valid request: not an object, unknown op, missing or ill-typed field.
        case invalidRequest = "invalid_request"
        /// A field's value breaks a rule of the domain.
        case validationFailed = "validation_failed"
        case notFound = "not_found"
        /// The command does not fit the order's status.
        case invalidTransition = "invalid_transition"
        /// The order's version was not the expected one; details carry expected and actual.
        case concurrencyConflict = "concurrency_conflict"
        /// The command id (Idempotency-Key) was first used for a command on another order.
        case commandIdReused = "command_id_reused"
        /// The read models did not reach `minPosition` in time.
        case staleRead = "stale_read"
        /// `minPosition` is past the log's head: no command of this store returned it.
        case unknownPosition = "unknown_position"
        /// The request line is longer than the server's limit; the connection is closed.
        case tooLarge = "too_large"
        /// Redis cannot be reached; retry later (with the same commandId for commands).
        case unavailable
        /// Another replay is running; details carry its `replayId`.
        case replayRunning = "replay_running"
        /// The server requires a token and the request's was missing or wrong.
        case unauthorized
        /// HTTP only: the body is declared as something other than JSON.
        case unsupportedMediaType = "unsupported_media_type"
        /// HTTP only: the path exists without that method (`Allow` lists those it has).
        case methodNotAllowed = "method_not_allowed"
        /// HTTP only: a request not received in time; the connection closes.
        case timeout
        /// HTTP only: `/health/ready` while the service should get no traffic.
        case notReady = "not_ready"
        case `internal`

        /// The status this code answers with over HTTP.
        public var httpStatus: Int {
            switch self {
            case .invalidJSON, .invalidRequest, .validationFailed: 400
            case .unauthorized: 401
            case .notFound: 404
            case .methodNotAllowed: 405
            case .timeout: 408
            // A failed If-Match (concurrency_conflict) is a 409 with the current ETag rather than
            // HTTP's 412: the expected version is part of the request's data, and a generic
            // client (schemathesis's positive-data check) counts 412 as valid data refused.
            case .invalidTransition, .replayRunning, .unknownPosition, .concurrencyConflict, .commandIdReused: 409
            case .tooLarge: 413
            case .unsupportedMediaType: 415
            case .internal: 500
            case .staleRead, .unavailable, .notReady: 503
            }
        }
    }

    public var code: Code
    public var message: String
    public var details: [String: any Sendable & Equatable & Hashable]

    public init(_ code: Code, _ message: String, details: [String: any Sendable & Equatable & Hashable] = [:]) {
        self.code = code
        self.message = message
        self.details = details
    }

    public var description: String { "\(code.rawValue): \(message)" }

    public static func == (a: APIError, b: APIError) -> Bool {
        a.code == b.code && a.message == b.message && a.details.keys == b.details.keys
    }

    /// The client-facing form of a domain refusal.
    public init(_ error: DomainError) {
        // Every domain code is a wire code.
        self.init(Code(rawValue: error.code.rawValue)!, error.description)
    }

    /// The client-facing form of an event-store failure. Clients never see internals (Redis's
    /// address, Redis's own error text): an outage or a fault is logged with an error id, and the
    /// answer carries that id (`errorId`) and a message about the request.
    public init(_ error: EventStoreError) {
        switch error {
        case .concurrencyConflict(let orderId, let expected, let actual):
            let expectedValue: Int
            switch expected {
            case .exactly(let version): expectedValue = version
            case .noStream: expectedValue = 0
            case .any: expectedValue = -1
            }
            self.init(.concurrencyConflict, error.description,
                      details: ["orderId": orderId, "expectedVersion": expectedValue, "actualVersion": actual])
        case .invalidAppend(let message):
            self.init(.validationFailed, message)
        case .unavailable(_, let outcomeUnknown):
            let errorId = Self.logged("request.storage_unavailable", error)
            self.init(.unavailable, outcomeUnknown
                ? "the storage did not confirm this command: it may or may not have happened; retry it with the same commandId (error \(errorId))"
                : "the storage is unavailable; retry later (error \(errorId))",
                      details: ["errorId": errorId])
        case .libraryMismatch, .corrupt, .redis:
            let errorId = Self.logged("request.storage_failed", error)
            self.init(.internal, "internal error (error \(errorId)); the server's log has the details", details: ["errorId": errorId])
        }
    }

    /// The client-facing form of a read-side refusal: its code is a wire code already. A read
    /// model that does not read back is a fault, logged under an error id.
    public init(_ error: ReadSideError) {
        guard error.code != .corrupt, let code = Code(rawValue: error.code.rawValue) else {
            self = APIError.unexpected(error)
            return
        }
        self.init(code, error.message, details: error.replayId.map { ["replayId": $0] } ?? [:])
    }

    /// The client-facing form of a command's refusal.
    public init(_ error: CommandHandler.Failure) {
        switch error {
        case .domain(let domain): self.init(domain)
        case .store(let store): self.init(store)
        case .commandIdReused(let message): self.init(.commandIdReused, message)
        }
    }

    /// Any failure as the client sees it: each layer's errors by their own mapping above, and
    /// anything else as an unexpected fault. The one place errors become wire errors.
    public init(any error: any Error) {
        switch error {
        case let error as APIError: self = error
        case let error as CommandHandler.Failure: self.init(error)
        case let error as EventStoreError: self.init(error)
        case let error as ReadSideError: self.init(error)
        case let error as DomainError: self.init(error)
        case let error as RedisError: self.init(EventStoreError.from(error))
        default: self = APIError.unexpected(error)
        }
    }

    /// An unexpected failure of the server itself: logged in full under an error id.
    public static func unexpected(_ error: any Error) -> APIError {
        let errorId = logged("request.failed", error)
        return APIError(.internal, "internal error (error \(errorId)); the server's log has the details", details: ["errorId": errorId])
    }

    /// Logs `error` under a new short id and returns the id.
    private static func logged(_ event: String, _ error: any Error) -> String {
        let errorId = String(UInt64.random(in: 0..<(1 << 48)), radix: 16)
        Log.error(event, ["errorId": errorId, "error": error])
        return errorId
    }
}

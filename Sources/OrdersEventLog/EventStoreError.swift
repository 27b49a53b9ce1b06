import RedisClient
import OrdersDomain

/// Why an event-store call failed.
public enum EventStoreError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The order's version was not what the writer expected. Nothing was written.
    case concurrencyConflict(orderId: String, expected: ExpectedVersion, actual: Int)
    /// The append itself is malformed (no events, an event too large, a bad id). Nothing was written.
    case invalidAppend(String)
    /// Redis could not be reached, or the connection broke mid-call. When `outcomeUnknown` the
    /// append may have happened: retry with the same command id to find out safely.
    case unavailable(String, outcomeUnknown: Bool)
    /// The function library in Redis is not the one this build needs.
    case libraryMismatch(String)
    /// A stored entry could not be read back (missing field, bad number).
    case corrupt(String)
    /// Any other error Redis reported.
    case redis(String)

    /// The wire code of each failure: the API answers with the raw value (storage faults are
    /// `internal`, their details stay in the log).
    public enum Code: String, Sendable, CaseIterable {
        case concurrencyConflict = "concurrency_conflict"
        case validationFailed = "validation_failed"
        case unavailable
        case `internal`
    }

    public var code: Code {
        switch self {
        case .concurrencyConflict: return .concurrencyConflict
        case .invalidAppend: return .validationFailed
        case .unavailable: return .unavailable
        case .libraryMismatch, .corrupt, .redis: return .internal
        }
    }

    public var description: String {
        switch self {
        case .concurrencyConflict(let orderId, let expected, let actual):
            return "order \(orderId) is at version \(actual), but version \(expected) was expected"
        case .invalidAppend(let message), .libraryMismatch(let message), .corrupt(let message), .redis(let message):
            return message
        case .unavailable(let message, let unknown):
            return unknown ? "\(message); the write may or may not have happened: retry with the same commandId" : message
        }
    }

    /// Maps a client error to the store's vocabulary, keeping Redis's own text.
    public static func from(_ error: any Error) -> EventStoreError {
        if let error = error as? EventStoreError { return error }
        guard let error = error as? RedisError else { return .redis("\(error)") }
        switch error {
        case .server(let message):
            if error.isServerUnavailable { return .unavailable(error.description, outcomeUnknown: false) }
            if message.hasPrefix("LIBRARY_OUTDATED") { return .libraryMismatch(message) }
            if message.hasPrefix("INVALID_APPEND") { return .invalidAppend(message) }
            return .redis(message)
        case .unavailable, .closed, .invalidURL, .scanInterrupted:
            return .unavailable(error.description, outcomeUnknown: false)
        case .connectionLost, .timeout:
            return .unavailable(error.description, outcomeUnknown: true)
        }
    }
}

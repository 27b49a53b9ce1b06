/// Why the domain refused a command. Messages are written for the person who sent it.
public enum DomainError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A field's value breaks a rule ("quantity must be between 1 and 10000, got 0").
    case validation(String)
    /// The command does not fit the order's status ("cannot cancel a shipped order").
    case invalidTransition(String)
    /// The order does not exist, or was deleted.
    case notFound(String)

    /// The wire code of each refusal: the API answers with the raw value.
    public enum Code: String, Sendable, CaseIterable {
        case validationFailed = "validation_failed"
        case invalidTransition = "invalid_transition"
        case notFound = "not_found"
    }

    public var code: Code {
        switch self {
        case .validation: return .validationFailed
        case .invalidTransition: return .invalidTransition
        case .notFound: return .notFound
        }
    }

    public var description: String {
        switch self {
        case .validation(let message), .invalidTransition(let message), .notFound(let message): return message
        }
    }
}

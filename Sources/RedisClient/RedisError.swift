/// Everything the client can fail with. Server errors keep the text Redis sent; client-side
/// errors name the URL (password redacted) so an operator knows which server was meant.
public enum RedisError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Redis answered with an error reply, e.g. `WRONGTYPE …` or a script's own error.
    case server(String)
    /// No connection could be made (refused, unresolvable, auth or SELECT failed, or the client is
    /// backing off after such a failure). Nothing was sent.
    case unavailable(url: String, reason: String)
    /// The connection broke while commands were in flight: they may or may not have run.
    case connectionLost(url: String, reason: String)
    /// No reply within the command timeout. Like `connectionLost`, the outcome is unknown.
    case timeout(url: String, milliseconds: Int)
    /// The URL could not be parsed.
    case invalidURL(String)
    /// The client was closed before the command could run.
    case closed
    /// A `SCAN` walk's slot moved to another node of the cluster since the walk began: its
    /// cursor means nothing there. Start the walk again from cursor 0 (it may name keys twice).
    case scanInterrupted(slot: Int)

    public var description: String {
        switch self {
        case .server(let message): return "Redis error: \(message)"
        case .unavailable(let url, let reason): return "Redis at \(url) is unavailable: \(reason)"
        case .connectionLost(let url, let reason): return "connection to Redis at \(url) was lost: \(reason)"
        case .timeout(let url, let ms): return "Redis at \(url) did not answer within \(ms) ms"
        case .invalidURL(let reason): return "invalid Redis URL: \(reason)"
        case .closed: return "the Redis client is closed"
        case .scanInterrupted(let slot): return "slot \(slot) moved to another node during a SCAN walk; start it again"
        }
    }

    /// True for error replies of a server that cannot serve right now and did not run the
    /// command: still loading its data after a restart (`LOADING`), busy with a script (`BUSY`),
    /// a replica cut off from its primary or read-only (`MASTERDOWN`, `READONLY`), a cluster
    /// not ready (`TRYAGAIN`, `CLUSTERDOWN`). Callers report these as an outage, not as a bug.
    public var isServerUnavailable: Bool {
        guard case .server(let message) = self else { return false }
        return ["LOADING", "BUSY", "MASTERDOWN", "READONLY", "TRYAGAIN", "CLUSTERDOWN"].contains {
            message.hasPrefix($0 + " ") || message == $0
        }
    }

    /// A node that could not be reached or stopped answering: on a cluster, perhaps a failed
    /// master whose replica is taking over.
    var mayMeanANodeFailed: Bool {
        switch self {
        case .unavailable: return !isRefusedAccess
        case .connectionLost, .timeout: return true
        case .server, .invalidURL, .closed, .scanInterrupted: return false
        }
    }

    /// True when Redis is reachable but refused this client's credentials or database: waiting
    /// will not help, unlike an outage.
    public var isRefusedAccess: Bool {
        guard case .unavailable(_, let reason) = self else { return false }
        return reason.hasPrefix("authentication failed") || reason.hasPrefix("SELECT")
    }

    /// True when a command may have been executed even though no reply arrived.
    public var outcomeUnknown: Bool {
        switch self {
        case .connectionLost, .timeout: return true
        default: return false
        }
    }
}

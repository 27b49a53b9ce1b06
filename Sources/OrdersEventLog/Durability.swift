
/// When a command's events count as stored, and so when the command is answered.
///
/// - `local`: once the primary has them (the append's FCALL returned). A primary that dies
///   before its replicas received them takes them along; an asynchronous replica is usually
///   under a millisecond behind.
/// - `replicated(replicas: N)`: once N replicas have them too: `WAIT N <timeout>` on the same
///   connection, right after the FCALL (Redis 7.0 has no WAITAOF, and a WAIT inside a function
///   does not block). Fewer in time, and the command answers `unavailable` with the outcome
///   unknown: the events are on the primary and may or may not survive a failover, and a retry
///   with the same command id answers the first result once it is replicated, so it neither
///   doubles nor loses them.
public enum Durability: Sendable, Equatable, CustomStringConvertible {
    case local
    case replicated(replicas: Int, timeout: Duration)

    /// How long a command waits for its replicas by default.
    public static let defaultTimeout = Duration.seconds(1)

    /// `local`, `replicated` (one replica) or `replicated:N`.
    public init?(_ text: String, timeout: Duration = Durability.defaultTimeout) {
        if text == "local" {
            self = .local
            return
        }
        let parts = text.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts[0] == "replicated" else { return nil }
        guard parts.count == 2 else {
            self = .replicated(replicas: 1, timeout: timeout)
            return
        }
        guard let replicas = Int(parts[1]), (1...16).contains(replicas) else { return nil }
        self = .replicated(replicas: replicas, timeout: timeout)
    }

    /// What an answered command promises, in the start-up log and `health`.
    public var promise: String {
        switch self {
        case .local:
            "a command is answered once the primary has its events: a primary lost before its replicas received them loses them"
        case .replicated(let replicas, let timeout):
            "a command is answered once the primary and \(replicas) replica\(replicas == 1 ? "" : "s") have its events (WAIT, up to \(timeout.milliseconds) ms); "
                + "else unavailable, outcome unknown, safe to retry with the same commandId: a failover to a replica that has them loses nothing answered"
        }
    }

    public var description: String {
        switch self {
        case .local: "local"
        case .replicated(let replicas, _): "replicated:\(replicas)"
        }
    }
}

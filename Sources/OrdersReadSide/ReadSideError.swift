/// Why the read side refused a request or stopped: one error for queries, replays and operator
/// calls. The code's raw value is the wire code the API answers with.
public struct ReadSideError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable, CaseIterable {
        case invalidRequest = "invalid_request"
        case notFound = "not_found"
        /// A read model did not reach `minPosition` in time (or too many queries wait already).
        case staleRead = "stale_read"
        /// `minPosition` is past the log's head: no command of this store returned it.
        case unknownPosition = "unknown_position"
        /// Another replay holds the slot (`replayId` names it).
        case replayRunning = "replay_running"
        /// A replay stopped because a cancel was asked for: how a replay ends, not an answer.
        case replayCancelled = "replay_cancelled"
        /// A read model or a projection's output that does not read back: a bug or corrupt data.
        case corrupt = "internal"
    }

    public let code: Code
    public let message: String
    /// The running replay, for `replayRunning`.
    public var replayId: String?

    public init(_ code: Code, _ message: String, replayId: String? = nil) {
        self.code = code
        self.message = message
        self.replayId = replayId
    }

    public var description: String { message }

    static func invalid(_ message: String) -> ReadSideError { ReadSideError(.invalidRequest, message) }
    static func notFound(_ message: String) -> ReadSideError { ReadSideError(.notFound, message) }
    static func corrupt(_ message: String) -> ReadSideError { ReadSideError(.corrupt, message) }
    static let cancelled = ReadSideError(.replayCancelled, "the replay was cancelled")
    static func replayRunning(id: String, phase: String) -> ReadSideError {
        ReadSideError(.replayRunning, "replay \(id) is running (\(phase)); cancel it or wait for it to finish", replayId: id)
    }
}

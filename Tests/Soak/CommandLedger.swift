import Synchronization

/// What a load generator sent and what the service answered, by command id: the ground truth the
/// audit compares the store with.
public final class CommandLedger: Sendable {
    public enum Outcome: Sendable, Equatable {
        /// Answered ok: exactly one event must exist for it.
        case acknowledged
        /// Refused with a documented code (invalid transition, conflict…): no event may exist.
        case refused(String)
        /// Never answered before the client gave up: zero or one event may exist.
        case abandoned
    }

    private let outcomes = Mutex<[String: Outcome]>([:])
    /// Answers that broke the protocol's promises (an undocumented or `internal` code, a wrong
    /// conflict version…), kept for the report.
    private let problems = Mutex<[String]>([])

    /// Attempts answered `unavailable` (sent again with the same command id), and attempts that
    /// got no answer at all (connection gone or timed out).
    private let retries = Mutex<(unavailable: Int, unanswered: Int)>((0, 0))

    public init() {}

    public func retried(unavailable: Bool) {
        retries.withLock { if unavailable { $0.unavailable += 1 } else { $0.unanswered += 1 } }
    }

    public var retriedAttempts: (unavailable: Int, unanswered: Int) { retries.withLock { $0 } }

    public func record(_ commandId: String, _ outcome: Outcome) {
        outcomes.withLock { $0[commandId] = outcome }
    }

    public func problem(_ text: String) {
        problems.withLock { if $0.count < 100 { $0.append(text) } }
    }

    /// Commands answered (or given up on) so far.
    public var count: Int { outcomes.withLock { $0.count } }
    public var all: [String: Outcome] { outcomes.withLock { $0 } }
    public var allProblems: [String] { problems.withLock { $0 } }
    public var acknowledged: Int { outcomes.withLock { $0.values.filter { $0 == .acknowledged }.count } }
}

import OrdersDomain
/// Where an event sits on the global log: the log entry's id, `<milliseconds>-<sequence>`.
/// The order stream stores each event under the same id, so one position names an event in both.
public struct LogPosition: Sendable, Hashable, Comparable, StringCodable {
    public var milliseconds: UInt64
    public var sequence: UInt64

    public init(milliseconds: UInt64, sequence: UInt64 = 0) {
        self.milliseconds = milliseconds
        self.sequence = sequence
    }

    public init?(_ text: some StringProtocol) {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2, let ms = UInt64(parts[0]), let seq = UInt64(parts[1]) else { return nil }
        self.init(milliseconds: ms, sequence: seq)
    }

    /// The first possible position at or after a time: reading from it returns exactly the
    /// events committed at or after that millisecond.
    public init(atOrAfter time: Timestamp) {
        self.init(milliseconds: UInt64(max(0, time.milliseconds)), sequence: 0)
    }

    public var description: String { "\(milliseconds)-\(sequence)" }
    public var time: Timestamp { Timestamp(milliseconds: Int64(milliseconds)) }

    public static func < (a: LogPosition, b: LogPosition) -> Bool {
        (a.milliseconds, a.sequence) < (b.milliseconds, b.sequence)
    }

    public init?(parsingText text: String) { self.init(text) }
    public static let textKind = "a log position"
}

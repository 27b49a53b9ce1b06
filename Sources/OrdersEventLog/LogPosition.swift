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

    /// Parses `<milliseconds>-<sequence>` (decimal digits only), byte by byte: every append's
    /// reply and every log entry carries one.
    public init?(_ text: some StringProtocol) {
        var parts: (UInt64, UInt64) = (0, 0)
        var part = 0, digits = 0
        for byte in text.utf8 {
            if byte == UInt8(ascii: "-") {
                guard part == 0, digits > 0 else { return nil }
                part = 1
                digits = 0
                continue
            }
            guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else { return nil }
            let digit = UInt64(byte - UInt8(ascii: "0"))
            digits += 1
            if part == 0 {
                let (times, overflow1) = parts.0.multipliedReportingOverflow(by: 10)
                let (sum, overflow2) = times.addingReportingOverflow(digit)
                guard !overflow1, !overflow2 else { return nil }
                parts.0 = sum
            } else {
                let (times, overflow1) = parts.1.multipliedReportingOverflow(by: 10)
                let (sum, overflow2) = times.addingReportingOverflow(digit)
                guard !overflow1, !overflow2 else { return nil }
                parts.1 = sum
            }
        }
        guard part == 1, digits > 0 else { return nil }
        self.init(milliseconds: parts.0, sequence: parts.1)
    }

    /// A position as a client names it (`minPosition`): the API document's pattern,
    /// `^[0-9]{1,19}(-[0-9]{1,19})?$`. Every position this store hands out has that form (19
    /// digits of milliseconds reach the year 316 million); as in Redis's own range arguments,
    /// milliseconds alone mean their first position (`<ms>-0`). Any other text is refused.
    public init?(requested text: some StringProtocol) {
        guard let dash = text.firstIndex(of: "-") else {
            guard (1...19).contains(text.utf8.count) else { return nil }
            self.init(text + "-0")
            return
        }
        guard (1...19).contains(text.distance(from: text.startIndex, to: dash)),
              (1...19).contains(text.distance(from: text.index(after: dash), to: text.endIndex)) else { return nil }
        self.init(text)
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

/// Splits a connection's input into lines, and knows how long the unfinished one has waited.
struct LineFraming {
    var input: [UInt8] = []
    /// Where to resume looking for a newline in `input`, so a long line is scanned once.
    var scanFrom = 0
    /// When the first byte of the line now being received arrived (nil between lines).
    var partialSince: ContinuousClock.Instant?

    mutating func append(_ bytes: ArraySlice<UInt8>) {
        input.append(contentsOf: bytes)
    }

    /// Drops what was received (a refused line).
    mutating func reset() {
        input = []
        scanFrom = 0
    }

    /// Takes the complete lines out of `input` (without their "\n", and without a "\r" before it).
    mutating func takeLines() -> [[UInt8]] {
        var lines: [[UInt8]] = []
        var start = 0
        var index = scanFrom
        while index < input.count {
            if input[index] == UInt8(ascii: "\n") {
                var end = index
                if end > start && input[end - 1] == UInt8(ascii: "\r") { end -= 1 }
                lines.append(Array(input[start..<end]))
                start = index + 1
            }
            index += 1
        }
        if start > 0 { input.removeFirst(start) }
        scanFrom = input.count
        if input.isEmpty { partialSince = nil } else if start > 0 || partialSince == nil { partialSince = .now }
        return lines
    }

    /// Whether the unfinished line in `input` is already longer than `limit`. The limit counts a
    /// line's content, not its terminator: a "\r" at the end may be the first half of a "\r\n"
    /// whose "\n" is still on its way, so a line of exactly the limit is accepted however its
    /// bytes are split across reads.
    func partialLineExceeds(_ limit: Int) -> Bool {
        input.count - (input.last == UInt8(ascii: "\r") ? 1 : 0) > limit
    }
}

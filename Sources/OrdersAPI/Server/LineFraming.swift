/// Splits a connection's input into lines, and knows how long the unfinished one has waited.
public struct LineFraming: RequestFraming {
    var input = FramingInput()
    /// Longest line content accepted; a longer one is refused with `tooLarge`.
    let limit: Int
    let tooLarge: [UInt8]

    init(limit: Int, tooLarge: [UInt8]) {
        self.limit = limit
        self.tooLarge = tooLarge
    }

    public var partialSince: ContinuousClock.Instant? { input.partialSince }
    public var bufferedBytes: Int { input.buffered }

    public mutating func append(_ bytes: ArraySlice<UInt8>) {
        input.append(bytes)
    }

    /// The next line (without its "\n", and without a "\r" before it); blank lines are skipped.
    public mutating func next() -> FramingStep<[UInt8]> {
        while true {
            let newline = input.bytes[max(input.scanFrom, input.start)...].firstIndex(of: UInt8(ascii: "\n"))
            guard let index = newline else {
                input.scanFrom = input.bytes.count
                input.compact()
                input.idle()
                if partialLineExceeds(limit) { return refuse() }
                return .needMore
            }
            var end = index
            if end > input.start && input.bytes[end - 1] == UInt8(ascii: "\r") { end -= 1 }
            let line = input.bytes[input.start..<end]
            input.consume(upTo: index + 1)
            if line.count > limit { return refuse() }
            if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { continue } // blank lines are ignored
            return .request(Array(line))
        }
    }

    private mutating func refuse() -> FramingStep<[UInt8]> {
        input.clear()
        return .refuse(tooLarge)
    }

    /// Whether the unfinished line is already longer than `limit`. The limit counts a line's
    /// content, not its terminator: a "\r" at the end may be the first half of a "\r\n" whose "\n"
    /// is still on its way, so a line of exactly the limit is accepted however its bytes are split
    /// across reads.
    func partialLineExceeds(_ limit: Int) -> Bool {
        let pending = input.buffered
        return pending - (input.bytes.last == UInt8(ascii: "\r") && pending > 0 ? 1 : 0) > limit
    }
}

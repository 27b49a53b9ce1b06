/// Splits a connection's input into lines, and knows how long the unfinished one has waited.
public struct LineFraming: RequestFraming {
    var input: [UInt8] = []
    /// Where the next line starts in `input` (consumed bytes are dropped in bulk, not per line).
    var start = 0
    /// Where to resume looking for a newline in `input`, so a long line is scanned once.
    var scanFrom = 0
    public private(set) var partialSince: ContinuousClock.Instant?
    public var bufferedBytes: Int { input.count - start }
    /// Longest line content accepted; a longer one is refused with `tooLarge`.
    let limit: Int
    let tooLarge: [UInt8]

    init(limit: Int, tooLarge: [UInt8]) {
        self.limit = limit
        self.tooLarge = tooLarge
    }

    public mutating func append(_ bytes: ArraySlice<UInt8>) {
        if start > 0 && start == input.count {
            input.removeAll(keepingCapacity: true)
            scanFrom = 0
            start = 0
        }
        input.append(contentsOf: bytes)
        if partialSince == nil { partialSince = .now }
    }

    /// The next line (without its "\n", and without a "\r" before it); blank lines are skipped.
    public mutating func next() -> FramingStep<[UInt8]> {
        while true {
            var index = max(scanFrom, start)
            while index < input.count && input[index] != UInt8(ascii: "\n") { index += 1 }
            guard index < input.count else {
                scanFrom = input.count
                compact()
                if start == input.count { partialSince = nil }
                if partialLineExceeds(limit) { return refuse() }
                return .needMore
            }
            var end = index
            if end > start && input[end - 1] == UInt8(ascii: "\r") { end -= 1 }
            let line = input[start..<end]
            start = index + 1
            scanFrom = start
            partialSince = start == input.count ? nil : .now
            if line.count > limit { return refuse() }
            if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { continue } // blank lines are ignored
            return .request(Array(line))
        }
    }

    private mutating func refuse() -> FramingStep<[UInt8]> {
        input = []
        start = 0
        scanFrom = 0
        partialSince = nil
        return .refuse(tooLarge)
    }

    /// Drops consumed bytes once they are most of the buffer.
    private mutating func compact() {
        guard start > 0, start >= input.count / 2 else { return }
        input.removeFirst(start)
        scanFrom -= start
        start = 0
    }

    /// Whether the unfinished line is already longer than `limit`. The limit counts a line's
    /// content, not its terminator: a "\r" at the end may be the first half of a "\r\n" whose "\n"
    /// is still on its way, so a line of exactly the limit is accepted however its bytes are split
    /// across reads.
    func partialLineExceeds(_ limit: Int) -> Bool {
        let pending = input.count - start
        return pending - (input.last == UInt8(ascii: "\r") && pending > 0 ? 1 : 0) > limit
    }
}

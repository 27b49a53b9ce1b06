/// What a connection has received and not yet framed, for any protocol's framing: bytes are
/// appended at the end and consumed from `start`; consumed bytes are dropped in bulk (all at once
/// when everything was consumed, else once they are most of the buffer), not per request. It
/// also knows when the request being received began.
struct FramingInput {
    var bytes: [UInt8] = []
    /// Where the next request starts in `bytes`.
    var start = 0
    /// Where a framing resumes looking for the end of the request (a long one is scanned once).
    var scanFrom = 0
    /// When the first byte of the request now being received arrived (nil between requests).
    private(set) var partialSince: ContinuousClock.Instant?

    var buffered: Int { bytes.count - start }

    mutating func append(_ new: ArraySlice<UInt8>) {
        if start > 0 && start == bytes.count {
            bytes.removeAll(keepingCapacity: true)
            start = 0
            scanFrom = 0
        }
        bytes.append(contentsOf: new)
        if partialSince == nil { partialSince = .now }
    }

    /// A request ended just before `end`: the next one starts there.
    mutating func consume(upTo end: Int) {
        start = end
        scanFrom = end
        partialSince = end == bytes.count ? nil : .now
    }

    /// Nothing buffered is a request begun.
    mutating func idle() {
        if start == bytes.count { partialSince = nil }
    }

    /// Drops everything (a refused request: the rest of the connection's bytes mean nothing).
    mutating func clear() {
        bytes = []
        start = 0
        scanFrom = 0
        partialSince = nil
    }

    /// Drops the consumed bytes once they are most of the buffer.
    mutating func compact() {
        guard start > 0, start >= bytes.count / 2 else { return }
        bytes.removeFirst(start)
        scanFrom = max(0, scanFrom - start)
        start = 0
    }
}

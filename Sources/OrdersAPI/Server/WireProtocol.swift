/// What a server's connections speak: how their bytes become requests, and how each request is
/// answered. The socket machinery (`SocketServer`, `ConnectionLoop`) is the same for every
/// protocol; the line protocol and HTTP differ only here.
public protocol WireProtocol: Sendable {
    associatedtype Framing: RequestFraming
    /// Requests of one connection handled at once. 1 keeps answers in the requests' order (HTTP);
    /// more lets answers go out as they complete (the line protocol pairs them by `id`).
    var maxInFlight: Int { get }
    /// The bytes sent before closing a connection whose request stalled half-way (nil: just close).
    var stalledAnswer: [UInt8]? { get }
    func makeFraming() -> Framing
    func respond(to request: Framing.Request) async -> WireAnswer
}

/// One answer: its bytes, and whether the connection closes once they are out.
public struct WireAnswer: Sendable {
    public var bytes: [UInt8]
    public var close: Bool

    public init(_ bytes: [UInt8], close: Bool = false) {
        self.bytes = bytes
        self.close = close
    }
}

/// What the next bytes of a connection hold.
public enum FramingStep<Request> {
    /// A complete request.
    case request(Request)
    /// Nothing complete yet.
    case needMore
    /// Bytes to send at once, with the request still being received (HTTP's `100 Continue`).
    case interim([UInt8])
    /// The input cannot be served (too large, malformed): these bytes are the last answer, then
    /// the connection closes and what it still sends is dropped.
    case refuse([UInt8])
}

/// Splits one connection's input into requests. Lives on the connection's loop.
public protocol RequestFraming {
    associatedtype Request: Sendable
    mutating func append(_ bytes: ArraySlice<UInt8>)
    mutating func next() -> FramingStep<Request>
    /// When the first byte of the request now being received arrived (nil between requests).
    var partialSince: ContinuousClock.Instant? { get }
    /// Bytes received and not yet taken as requests.
    var bufferedBytes: Int { get }
}

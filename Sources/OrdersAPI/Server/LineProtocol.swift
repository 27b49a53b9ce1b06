/// The NDJSON line protocol: a request is a line, its answer a line; many may be in flight on one
/// connection and their answers go out as they complete (the request's `id` pairs them).
public struct LineProtocol: WireProtocol {
    public typealias Handler = @Sendable (_ line: [UInt8]) async -> [UInt8]

    let handler: Handler
    /// The full answer sent before closing a connection whose line is too long.
    let tooLarge: [UInt8]
    let maxLineBytes: Int
    public let maxInFlight: Int
    public var stalledAnswer: [UInt8]? { nil }

    public init(configuration: ServerConfiguration, tooLarge: [UInt8], handler: @escaping Handler) {
        self.handler = handler
        self.tooLarge = tooLarge + [UInt8(ascii: "\n")]
        self.maxLineBytes = configuration.maxLineBytes
        self.maxInFlight = configuration.maxInFlightPerConnection
    }

    public func makeFraming() -> LineFraming { LineFraming(limit: maxLineBytes, tooLarge: tooLarge) }

    public func respond(to line: [UInt8]) async -> WireAnswer {
        var answer = await handler(line)
        answer.append(UInt8(ascii: "\n"))
        return WireAnswer(answer)
    }
}

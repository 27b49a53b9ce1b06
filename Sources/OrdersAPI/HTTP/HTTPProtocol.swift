/// HTTP/1.1 on the socket server: one request of a connection at a time, so answers keep the
/// requests' order however many a client pipelines (the rest wait in the connection's input).
public struct HTTPProtocol: WireProtocol {
    let router: HTTPRouter
    let maxBodyBytes: Int

    public init(router: HTTPRouter, configuration: ServerConfiguration) {
        self.router = router
        self.maxBodyBytes = configuration.maxLineBytes
    }

    public var maxInFlight: Int { 1 }

    public var stalledAnswer: [UInt8]? {
        HTTPResponse.error(408, code: .timeout, message: "the request was not received in time", close: true)
            .encode(keepAlive: false)
    }

    public func makeFraming() -> HTTPFraming { HTTPFraming(maxBodyBytes: maxBodyBytes) }

    public func respond(to request: HTTPRequest) async -> WireAnswer {
        let response = await router.respond(to: request)
        let keepAlive = request.keepAlive && !response.close
        return WireAnswer(response.encode(keepAlive: keepAlive, head: request.method == "HEAD", http10: request.http10), close: !keepAlive)
    }
}

/// The HTTP server: REST, probes, metrics and the OpenAPI document.
public typealias HTTPServer = SocketServer<HTTPProtocol>

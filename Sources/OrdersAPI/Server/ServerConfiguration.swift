/// Limits and addresses of a server (the line protocol's, HTTP's).
public struct ServerConfiguration: Sendable {
    public var host: String
    public var port: Int
    /// Longest request line (HTTP: request body) in bytes; a longer one is refused and the
    /// connection is closed.
    public var maxLineBytes: Int
    /// Requests of one connection being handled at once; past it the server stops reading that
    /// connection until responses go out (backpressure).
    public var maxInFlightPerConnection: Int
    /// Unsent response bytes one connection may hold before the server stops reading from it, so
    /// a client that does not read cannot grow the server's memory without bound.
    public var maxPendingOutputBytes: Int
    /// A connection with no traffic and nothing in flight for this long is closed.
    public var idleTimeout: Duration
    /// A request must be complete this long after its first byte arrived, else the
    /// connection is closed: a client sending a byte now and then (slow-loris) cannot hold a
    /// connection and its buffer for the whole idle timeout.
    public var lineTimeout: Duration
    public var maxConnections: Int

    public init(host: String = "127.0.0.1", port: Int = 7480, maxLineBytes: Int = 1 << 20,
                maxInFlightPerConnection: Int = 256, maxPendingOutputBytes: Int = 4 << 20,
                idleTimeout: Duration = .seconds(300), lineTimeout: Duration = .seconds(30), maxConnections: Int = 10_000) {
        self.host = host
        self.port = port
        self.maxLineBytes = maxLineBytes
        self.maxInFlightPerConnection = maxInFlightPerConnection
        self.maxPendingOutputBytes = maxPendingOutputBytes
        self.idleTimeout = idleTimeout
        self.lineTimeout = lineTimeout
        self.maxConnections = maxConnections
    }
}

import Synchronization

/// How a `RedisClient` reaches its server.
public struct RedisConfiguration: Sendable {
    public var url: RedisURL
    /// Connections (each with its own thread); callers are spread over them round-robin.
    public var connections: Int
    public var connectTimeout: Duration
    /// Longest wait for a reply. Blocking commands (`XREADGROUP … BLOCK`) need a longer one
    /// than their block time.
    public var commandTimeout: Duration
    /// Wait before the first reconnect attempt after a failed connect, doubling up to the upper bound.
    public var reconnectBackoff: ClosedRange<Duration>

    public init(url: RedisURL, connections: Int = 4, connectTimeout: Duration = .seconds(2),
                commandTimeout: Duration = .seconds(5),
                reconnectBackoff: ClosedRange<Duration> = .milliseconds(50)...(.seconds(1))) {
        precondition(connections >= 1, "a Redis client needs at least one connection")
        self.url = url
        self.connections = connections
        self.connectTimeout = connectTimeout
        self.commandTimeout = commandTimeout
        self.reconnectBackoff = reconnectBackoff
    }
}

/// A pool of pipelined connections, safe to share between any number of tasks.
///
/// Every call is queued on one connection's lane; a lane writes everything queued in one batch,
/// so concurrent calls share round trips. A call during an outage fails fast with `unavailable`
/// and calls succeed again once Redis is back.
public final class RedisClient: Sendable {
    public let configuration: RedisConfiguration
    private let lanes: [RedisLane]
    private let nextLane = Atomic<Int>(0)

    public init(_ configuration: RedisConfiguration) {
        self.configuration = configuration
        self.lanes = (0..<configuration.connections).map {
            RedisLane(configuration: configuration, name: "redis-lane-\($0)")
        }
    }

    public convenience init(url: RedisURL) {
        self.init(RedisConfiguration(url: url))
    }

    deinit { close() }

    /// Runs one command. An error reply throws `RedisError.server`.
    @discardableResult
    public func send(_ command: RedisCommand) async throws -> RedisValue {
        try await lane().submit([command])[0].orThrow()
    }

    @discardableResult
    public func send(_ name: String, _ arguments: any RedisArgument...) async throws -> RedisValue {
        try await send(RedisCommand(name, arguments))
    }

    /// Runs commands back to back on one connection in one round trip and returns every reply in
    /// order, error replies included (as `.error` values): one failing command does not hide the
    /// others' results. Commands of one call are never interleaved with other callers', so a
    /// `MULTI … EXEC` sequence may be sent as one pipeline.
    public func pipeline(_ commands: [RedisCommand]) async throws -> [RedisValue] {
        guard !commands.isEmpty else { return [] }
        return try await lane().submit(commands)
    }

    /// Fails queued calls with `closed` and ends the lanes' threads.
    public func close() {
        for lane in lanes { lane.close() }
    }

    private func lane() -> RedisLane {
        let index = nextLane.wrappingAdd(1, ordering: .relaxed).oldValue
        return lanes[(index & Int.max) % lanes.count]
    }
}

import Synchronization
import EventLoops

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

/// Pipelined connections to one Redis, safe to share between any number of tasks.
///
/// Two kinds, one interface:
/// - on event loops (`init(_:on:)`, the service): one non-blocking connection per loop; a task
///   running on a loop uses its loop's connection, and everything the loop's turn sends leaves in
///   one write (`RedisLoopConnection`);
/// - on lanes (`init(_:)`, the command-line tools, tests, operator work): `connections` blocking
///   connections, each driven by a thread of its own that writes everything queued in one batch
///   (`RedisLane`).
/// Either way concurrent calls share round trips, a call during an outage fails fast with
/// `unavailable`, and calls succeed again once Redis is back.
public final class RedisClient: Sendable {
    public let configuration: RedisConfiguration
    private let backend: Backend
    private let nextLane = Atomic<Int>(0)

    private enum Backend: Sendable {
        case lanes([RedisLane])
        case loops(RedisLoopConnections)
    }

    /// Connections on lanes of their own (threads).
    public init(_ configuration: RedisConfiguration) {
        self.configuration = configuration
        self.backend = .lanes((0..<configuration.connections).map {
            RedisLane(configuration: configuration, name: "redis-lane-\($0)")
        })
    }

    /// One connection on each loop of `group` (made when first used there); `connections` is
    /// not used.
    public init(_ configuration: RedisConfiguration, on group: EventLoopGroup) {
        self.configuration = configuration
        self.backend = .loops(RedisLoopConnections(group: group, configuration: configuration))
    }

    /// A client of the same kind with connections of its own (and another command timeout, when
    /// given): blocking reads (`XREADGROUP … BLOCK`) must not hold up other commands, and a
    /// `WATCH` must not be shared with other callers.
    public func dedicated(commandTimeout: Duration? = nil) -> RedisClient {
        var configuration = self.configuration
        configuration.commandTimeout = commandTimeout ?? configuration.commandTimeout
        switch backend {
        case .lanes:
            configuration.connections = 1
            return RedisClient(configuration)
        case .loops(let loops):
            return RedisClient(configuration, on: loops.group)
        }
    }

    public convenience init(url: RedisURL) {
        self.init(RedisConfiguration(url: url))
    }

    deinit { close() }

    /// Runs one command. An error reply throws `RedisError.server`.
    @discardableResult
    public func send(_ command: RedisCommand) async throws -> RedisValue {
        try await submit([command])[0].orThrow()
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
        return try await submit(commands)
    }

    /// Fails queued calls with `closed` and ends the lanes' threads or the loops' connections.
    public func close() {
        switch backend {
        case .lanes(let lanes): for lane in lanes { lane.close() }
        case .loops(let loops): loops.close()
        }
    }

    private func submit(_ commands: [RedisCommand]) async throws -> [RedisValue] {
        switch backend {
        case .lanes(let lanes):
            let index = nextLane.wrappingAdd(1, ordering: .relaxed).oldValue
            return try await lanes[(index & Int.max) % lanes.count].submit(commands)
        case .loops(let loops):
            return try await loops.submit(commands)
        }
    }
}

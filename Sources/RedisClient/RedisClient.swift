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

    /// For a `redis-sentinel://` URL: who the primary is (shared by every copy of this
    /// configuration, so a client and its dedicated ones follow one watch).
    public let sentinel: SentinelMonitor?
    /// Connections of this client (its nodes and its dedicated copies) made again after one
    /// broke or failed: shared by every copy of this configuration.
    let reconnects = ReconnectCount()

    final class ReconnectCount: Sendable {
        let value = Atomic<Int>(0)
    }

    /// Counts a connection made again, for this client and for the process (`RedisStatistics`).
    func reconnected() {
        reconnects.value.add(1, ordering: .relaxed)
        RedisStatistics.reconnected()
    }

    public init(url: RedisURL, connections: Int = 4, connectTimeout: Duration = .seconds(2),
                commandTimeout: Duration = .seconds(5),
                reconnectBackoff: ClosedRange<Duration> = .milliseconds(50)...(.seconds(1))) {
        precondition(connections >= 1, "a Redis client needs at least one connection")
        self.url = url
        self.sentinel = url.isSentinel ? SentinelMonitor.watching(url) : nil
        self.connections = connections
        self.connectTimeout = connectTimeout
        self.commandTimeout = commandTimeout
        self.reconnectBackoff = reconnectBackoff
    }
}

extension RedisConfiguration {
    /// The server a connection made now goes to, and the Sentinel generation it belongs to (0
    /// without Sentinel): the URL's own, or the primary the sentinels named last.
    func server() throws(RedisError) -> (url: RedisURL, generation: UInt64) {
        guard let sentinel else { return (url, 0) }
        guard let primary = sentinel.current else {
            throw .unavailable(url: url.description, reason: "no sentinel has named a primary for \(url.masterName ?? "") yet")
        }
        return (url.at(host: primary.host, port: primary.port), primary.generation)
    }

    /// False once the sentinels named another primary than the one of `generation`.
    func isCurrent(_ generation: UInt64) -> Bool {
        guard let sentinel else { return true }
        return sentinel.current?.generation ?? generation == generation
    }
}

/// Pipelined connections to one Redis, or to a Redis Cluster, safe to share between any number
/// of tasks.
///
/// Two kinds of connection, one interface:
/// - on event loops (`init(_:on:)`, the service): one non-blocking connection per loop and node;
///   a task running on a loop uses its loop's connection, and everything the loop's turn sends
///   leaves in one write (`RedisLoopConnection`);
/// - on lanes (`init(_:)`, the command-line tools, tests, operator work): `connections` blocking
///   connections per node, each driven by a thread of its own that writes everything queued in
///   one batch (`RedisLane`).
/// Either way concurrent calls share round trips, a call during an outage fails fast with
/// `unavailable`, and calls succeed again once Redis is back.
///
/// The URL may name any node of a cluster: the first `MOVED` answer (or `primaries()`) makes the
/// client read the slot map, and from then on every command goes to the master of its key's slot
/// (`ClusterRouter`). On a single Redis nothing of that costs more than one atomic load a call.
public final class RedisClient: Sendable {
    public let configuration: RedisConfiguration
    private let kind: RedisNode.Kind
    private let router: ClusterRouter

    /// Connections on lanes of their own (threads).
    public init(_ configuration: RedisConfiguration) {
        self.configuration = configuration
        self.kind = .lanes
        self.router = ClusterRouter(configuration, kind: .lanes)
    }

    /// One connection on each loop of `group` (made when first used there); `connections` is
    /// not used.
    public init(_ configuration: RedisConfiguration, on group: EventLoopGroup) {
        self.configuration = configuration
        self.kind = .loops(group)
        self.router = ClusterRouter(configuration, kind: .loops(group))
    }

    private init(_ configuration: RedisConfiguration, kind: RedisNode.Kind, knowing router: ClusterRouter) {
        self.configuration = configuration
        self.kind = kind
        self.router = ClusterRouter(configuration, kind: kind, knowing: router)
    }

    /// A client of the same kind with connections of its own (and another command timeout, when
    /// given): blocking reads (`XREADGROUP … BLOCK`) must not hold up other commands, and a
    /// `WATCH` must not be shared with other callers. It starts with what this client knows of
    /// the cluster.
    public func dedicated(commandTimeout: Duration? = nil) -> RedisClient {
        var configuration = self.configuration
        configuration.commandTimeout = commandTimeout ?? configuration.commandTimeout
        if case .lanes = kind { configuration.connections = 1 }
        return RedisClient(configuration, kind: kind, knowing: router)
    }

    public convenience init(url: RedisURL) {
        self.init(RedisConfiguration(url: url))
    }

    deinit { close() }

    /// Runs one command. An error reply throws `RedisError.server`.
    @discardableResult
    public func send(_ command: RedisCommand) async throws -> RedisValue {
        try await router.submit([command])[0].orThrow()
    }

    @discardableResult
    public func send(_ name: String, _ arguments: any RedisArgument...) async throws -> RedisValue {
        try await send(RedisCommand(name, arguments))
    }

    /// Runs commands back to back on one connection in one round trip and returns every reply in
    /// order, error replies included (as `.error` values): one failing command does not hide the
    /// others' results. Commands of one call are never interleaved with other callers', so a
    /// `MULTI … EXEC` sequence may be sent as one pipeline. On a cluster a pipeline without
    /// `MULTI` is split by node (each node's part still in one round trip); one with `MULTI`
    /// goes whole to the node of its first key.
    public func pipeline(_ commands: [RedisCommand]) async throws -> [RedisValue] {
        guard !commands.isEmpty else { return [] }
        return try await router.submit(commands)
    }

    /// The servers that take writes: the cluster's masters, or the one Redis of the URL. Reads the
    /// slot map when the client does not know yet whether it talks to a cluster.
    public func primaries() async throws -> [ClusterNode] {
        try await router.primaries()
    }

    /// Runs `command` on every primary (loading functions, flushing a test store, summing
    /// `INFO`), in the order of `primaries()`, and returns each one's reply, error replies
    /// included: one node's refusal does not hide what the others answered.
    public func sendToEveryPrimary(_ command: RedisCommand) async throws -> [RedisValue] {
        try await router.onEveryPrimary(command)
    }

    /// How many times this client (with its dedicated copies) made a connection again or followed
    /// a Sentinel switch: a caller that keeps state across calls (a projector's pending entries)
    /// checks it to know that what a lost server answered may be gone.
    public var reconnectsAndSwitches: Int {
        configuration.reconnects.value.load(ordering: .relaxed) + Int(configuration.sentinel?.current?.generation ?? 0)
    }

    /// True once the client knows it talks to a cluster.
    public var isCluster: Bool { router.isCluster }

    /// Fails queued calls with `closed` and ends the lanes' threads or the loops' connections.
    public func close() {
        router.close()
    }
}

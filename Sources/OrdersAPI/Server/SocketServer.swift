import Synchronization
import EventLoops
#if canImport(Glibc)
import Glibc
#endif

/// A TCP server on the event loops of a group, speaking `P` (the line protocol, HTTP).
///
/// One loop accepts and hands connections to the loops in turn; each loop then owns its
/// connections for good (`ConnectionLoop`): it reads them, starts each request's task on
/// itself, and writes the answers. How many requests of one connection are in flight at once, and
/// so whether answers keep the requests' order, is the protocol's choice.
///
/// Bounds: a request over the protocol's limits gets its refusal and the connection is closed
/// once its answers are out; a connection with too many requests in flight or too much unsent
/// output is not read until that drains (backpressure); idle connections are closed, and so are
/// ones whose request stalls half-way.
public final class SocketServer<P: WireProtocol>: Sendable {
    public let configuration: ServerConfiguration
    private let wire: P
    private let shared: ServerShared
    private let group: EventLoopGroup
    private let running = Mutex<(acceptor: Acceptor, parts: [ConnectionLoop<P>])?>(nil)
    private let port = Atomic<Int>(0)

    public init(configuration: ServerConfiguration, loops: EventLoopGroup, wire: P) {
        self.configuration = configuration
        self.group = loops
        self.wire = wire
        self.shared = ServerShared(configuration: configuration)
    }

    /// Client connections open now.
    public var openConnections: Int { shared.openConnections.load(ordering: .relaxed) }

    /// The port bound by `start` (useful with port 0).
    public var boundPort: Int { port.load(ordering: .relaxed) }

    /// Binds and listens, then serves on the loops. Returns the bound port.
    @discardableResult
    public func start() throws -> Int {
        let listener = try ListeningSocket.listen(host: configuration.host, port: configuration.port)
        let bound = try ListeningSocket.localPort(listener)
        port.store(bound, ordering: .relaxed)
        let acceptor = Acceptor(listener: listener, loop: group.loops[0], server: shared)
        let parts = group.loops.map { ConnectionLoop(loop: $0, server: shared, wire: wire) }
        acceptor.parts = parts
        shared.acceptor.withLock { $0 = acceptor }
        for part in parts { part.loop.execute { part.start() } }
        acceptor.loop.execute { acceptor.start() }
        running.withLock { $0 = (acceptor, parts) }
        return bound
    }

    /// Serves (starting first if `start` was not called) until the calling task is cancelled, then
    /// stops as `shutdown` does, within `grace`.
    public func run(grace: Duration = .seconds(10)) async throws {
        if running.withLock({ $0 == nil }) { try start() }
        let wake = Mutex<(cancelled: Bool, waiter: CheckedContinuation<Void, Never>?)>((false, nil))
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let cancelled = wake.withLock { state in
                    if !state.cancelled { state.waiter = continuation }
                    return state.cancelled
                }
                if cancelled { continuation.resume() }
            }
        } onCancel: {
            wake.withLock { state in
                state.cancelled = true
                defer { state.waiter = nil }
                return state.waiter
            }?.resume()
        }
        await shutdown(grace: grace)
    }

    /// Stops accepting, stops reading new requests, lets requests in flight finish and their
    /// answers go out (for up to `grace`), then closes every connection. Returns when done.
    public func shutdown(grace: Duration = .seconds(10)) async {
        guard let (acceptor, parts) = running.withLock({ state in defer { state = nil }; return state }) else { return }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            acceptor.loop.execute {
                acceptor.close()
                let left = Atomic<Int>(parts.count)
                for part in parts {
                    part.loop.execute {
                        part.stop(grace: grace) {
                            if left.subtract(1, ordering: .acquiringAndReleasing).newValue == 0 { continuation.resume() }
                        }
                    }
                }
            }
        }
    }
}

/// The line protocol's server.
public typealias LineServer = SocketServer<LineProtocol>

extension SocketServer where P == LineProtocol {
    /// `tooLarge` is the full response line sent before closing a connection whose line is too long.
    public convenience init(configuration: ServerConfiguration, loops: EventLoopGroup, tooLarge: [UInt8],
                            handler: @escaping LineProtocol.Handler) {
        self.init(configuration: configuration, loops: loops,
                  wire: LineProtocol(configuration: configuration, tooLarge: tooLarge, handler: handler))
    }
}

/// A loop's owner of connections, as the acceptor hands them out.
protocol ConnectionAdopting: AnyObject, Sendable {
    var loop: EventLoop { get }
    func adopt(_ fd: Int32)
}

/// What the acceptor and every loop's connections share: the settings and the counters that
/// span loops.
final class ServerShared: Sendable {
    let configuration: ServerConfiguration
    let openConnections = Atomic<Int>(0)
    let acceptPaused = Atomic<Bool>(false)
    let acceptor = Mutex<Acceptor?>(nil)

    init(configuration: ServerConfiguration) {
        self.configuration = configuration
    }

    /// Counts a new connection; false when the server is full (it is refused).
    func connectionOpened() -> Bool {
        if openConnections.add(1, ordering: .relaxed).newValue > configuration.maxConnections {
            openConnections.subtract(1, ordering: .relaxed)
            return false
        }
        return true
    }

    /// A connection closed: a descriptor is free, so a paused acceptor may accept again.
    func connectionClosed() {
        openConnections.subtract(1, ordering: .relaxed)
        guard acceptPaused.load(ordering: .relaxed), let acceptor = acceptor.withLock({ $0 }) else { return }
        acceptor.loop.execute { acceptor.resume(connectionClosed: true) }
    }
}

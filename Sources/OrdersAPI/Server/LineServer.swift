import Foundation
import Synchronization
import CLinux
import OrdersEventLog
#if canImport(Glibc)
import Glibc
#endif

/// A TCP server for newline-delimited requests, on one epoll thread.
///
/// The thread accepts connections, reads, splits lines and writes responses; each request line is
/// handled in its own task, so a connection may have many requests in flight and answers come
/// back in completion order (the protocol's `id` pairs them). Handlers never block the loop.
///
/// Bounds: a line longer than `maxLineBytes` gets the `tooLarge` answer and the connection is
/// closed once its answers are out; a connection with too many requests in flight or too much
/// unsent output is not read until that drains (backpressure); idle connections are closed.
public final class LineServer: @unchecked Sendable {
    // @unchecked: `connections`, `listener` and the loop's bookkeeping are touched only by the
    // event-loop thread; other threads reach the loop through `completions` (a Mutex) and the
    // wake pipe.
    public typealias Handler = @Sendable (_ line: [UInt8]) async -> [UInt8]

    public let configuration: ServerConfiguration
    let handler: Handler
    private let tooLarge: [UInt8]

    var epoll: Int32 = -1
    var listener: Int32 = -1
    private var wakePipe: (read: Int32, write: Int32) = (-1, -1)
    var connections: [UInt64: LineConnection] = [:]
    /// Set while accepting is paused because the process is out of descriptors (EMFILE): the
    /// listener is out of epoll (it would stay readable and spin the loop) until a connection
    /// closes or this time passes. `acceptPauseLogged` keeps it to one log line per episode.
    var acceptPausedUntil: ContinuousClock.Instant?
    var acceptPauseLogged = false
    var nextConnectionId: UInt64 = 2
    static let listenerToken: UInt64 = 0
    private static let wakeToken: UInt64 = 1

    private struct Shared {
        var completions: [(UInt64, [UInt8])] = []
        var wakePending = false
        var stopping = false
        var stopped = false
        var waiters: [CheckedContinuation<Void, Never>] = []
    }
    private let shared = Mutex(Shared())
    public private(set) var boundPort = 0

    /// `tooLarge` is the full response line sent before closing a connection whose line is too long.
    public init(configuration: ServerConfiguration, tooLarge: [UInt8], handler: @escaping Handler) {
        self.configuration = configuration
        self.handler = handler
        self.tooLarge = tooLarge
    }

    /// Binds and listens, then runs the event loop on its own thread. Returns the bound port
    /// (useful with port 0).
    @discardableResult
    public func start() throws -> Int {
        epoll = epoll_create1(Int32(EPOLL_CLOEXEC))
        guard epoll >= 0 else { throw ServerError("epoll_create1 failed: \(String(cString: strerror(errno)))") }
        listener = try ListeningSocket.listen(host: configuration.host, port: configuration.port)
        boundPort = try ListeningSocket.localPort(listener)
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw ServerError("pipe failed") }
        wakePipe = (fds[0], fds[1])
        ListeningSocket.setNonBlocking(fds[0])
        ListeningSocket.setNonBlocking(fds[1])
        watch(listener, token: Self.listenerToken, events: EPOLLIN.rawValue)
        watch(wakePipe.read, token: Self.wakeToken, events: EPOLLIN.rawValue)
        let thread = Thread { [self] in runLoop() }
        thread.name = "orders-server"
        thread.start()
        return boundPort
    }

    /// Stops accepting, stops reading new requests, lets requests in flight finish and their
    /// answers go out (for up to `grace`), then closes every connection. Returns when done.
    public func shutdown(grace: Duration = .seconds(10)) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let alreadyStopped = shared.withLock { state in
                if state.stopped { return true }
                state.stopping = true
                state.waiters.append(continuation)
                return false
            }
            if alreadyStopped { continuation.resume() } else { wake() }
        }
    }

    // MARK: - Event loop

    private func runLoop() {
        clinux_set_thread_name("orders-server") // what top -H and /proc show; Foundation's name is its own
        var events = [epoll_event](repeating: epoll_event(), count: 256)
        var lastSweep = ContinuousClock.now
        var stopDeadline: ContinuousClock.Instant?
        while true {
            let count = events.withUnsafeMutableBufferPointer { epoll_wait(epoll, $0.baseAddress, 256, 200) }
            if count < 0 && errno != EINTR { break }
            for index in 0..<max(0, Int(count)) {
                let event = events[index]
                switch event.data.u64 {
                case Self.listenerToken: acceptAll()
                case Self.wakeToken: drainWakePipe()
                default:
                    guard let connection = connections[event.data.u64] else { continue }
                    if event.events & (EPOLLIN.rawValue | EPOLLHUP.rawValue | EPOLLERR.rawValue) != 0 {
                        read(connection)
                    }
                    if connections[connection.id] != nil, event.events & EPOLLOUT.rawValue != 0 {
                        if !connection.flush() { close(connection); continue }
                        settle(connection)
                    }
                }
            }
            deliverCompletions()

            let now = ContinuousClock.now
            if stopDeadline == nil, shared.withLock({ $0.stopping }) {
                stopDeadline = now + .seconds(10)
                beginStopping()
            }
            if let deadline = stopDeadline {
                let busy = connections.values.contains { $0.inFlight > 0 || $0.pendingOutput > 0 }
                if !busy || now >= deadline { break }
            }
            resumeAccepting(now: now, connectionClosed: false)
            if now - lastSweep >= .seconds(1) {
                lastSweep = now
                closeIdleConnections(now: now)
            }
        }
        for connection in Array(connections.values) { close(connection) }
        Glibc.close(epoll)
        Glibc.close(wakePipe.read)
        Glibc.close(wakePipe.write)
        let waiters = shared.withLock { state in
            state.stopped = true
            let waiters = state.waiters
            state.waiters = []
            return waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    private func beginStopping() {
        if listener >= 0 {
            acceptPausedUntil = nil
            epoll_ctl(epoll, EPOLL_CTL_DEL, listener, nil)
            Glibc.close(listener)
            listener = -1
        }
        for connection in Array(connections.values) {
            connection.peerClosed = true // no new requests; answer those in flight, then close
            settle(connection)
        }
    }

    private func read(_ connection: LineConnection) {
        var buffer = [UInt8](repeating: 0, count: 64 << 10)
        while connection.reading {
            let received = buffer.withUnsafeMutableBytes { recv(connection.fd, $0.baseAddress, $0.count, 0) }
            if received > 0 && (connection.closeAfterFlush || connection.lingering) {
                continue // the rest of a refused line: dropped unread
            }
            if received > 0 {
                connection.lastActivity = .now
                connection.input.append(contentsOf: buffer[0..<received])
                for line in connection.takeLines() { dispatch(line, on: connection) }
                if connection.partialLineExceeds(configuration.maxLineBytes) {
                    refuseTooLarge(connection)
                }
                settle(connection)
                if connections[connection.id] == nil { return }
            } else if received == 0 {
                connection.peerClosed = true
                settle(connection)
                return
            } else if errno == EAGAIN || errno == EWOULDBLOCK {
                return
            } else if errno != EINTR {
                close(connection)
                return
            }
        }
    }

    private func dispatch(_ line: [UInt8], on connection: LineConnection) {
        guard !connection.closeAfterFlush else { return }
        if line.count > configuration.maxLineBytes {
            refuseTooLarge(connection)
            return
        }
        if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { return } // blank lines are ignored
        connection.inFlight += 1
        let id = connection.id
        let handler = self.handler
        Task { [self] in
            let response = await handler(line)
            complete(id, response)
        }
    }

    private func refuseTooLarge(_ connection: LineConnection) {
        connection.input = []
        connection.scanFrom = 0
        connection.closeAfterFlush = true
        connection.output.append(contentsOf: tooLarge)
        connection.output.append(UInt8(ascii: "\n"))
    }

    private func complete(_ id: UInt64, _ response: [UInt8]) {
        let needsWake = shared.withLock { state in
            state.completions.append((id, response))
            defer { state.wakePending = true }
            return !state.wakePending
        }
        if needsWake { wake() }
    }

    private func deliverCompletions() {
        let completions = shared.withLock { state in
            let taken = state.completions
            state.completions = []
            state.wakePending = false
            return taken
        }
        var touched: [UInt64: LineConnection] = [:]
        for (id, response) in completions {
            guard let connection = connections[id] else { continue } // it closed meanwhile
            connection.inFlight -= 1
            connection.output.append(contentsOf: response)
            connection.output.append(UInt8(ascii: "\n"))
            touched[id] = connection
        }
        for connection in touched.values {
            if !connection.flush() { close(connection); continue }
            settle(connection)
        }
    }

    /// Closes a finished connection, or sets what epoll watches from its buffers and counters.
    func settle(_ connection: LineConnection) {
        if connection.closeAfterFlush || connection.peerClosed {
            _ = connection.flush()
            if connection.inFlight == 0 && connection.pendingOutput == 0 {
                if connection.peerClosed {
                    close(connection)
                    return
                }
                if !connection.lingering {
                    // Our answers are out: half-close, then drain what the peer still sends.
                    Glibc.shutdown(connection.fd, Int32(SHUT_WR))
                    connection.lingering = true
                    connection.closeAfterFlush = false
                    connection.lastActivity = .now
                }
            }
        }
        let read = !connection.peerClosed
            && (connection.lingering || (!connection.closeAfterFlush
                && connection.inFlight < configuration.maxInFlightPerConnection
                && connection.pendingOutput < configuration.maxPendingOutputBytes))
        let write = connection.pendingOutput > 0
        guard read != connection.reading || write != connection.writing else { return }
        connection.reading = read
        connection.writing = write
        var event = epoll_event()
        event.events = (read ? EPOLLIN.rawValue : 0) | (write ? EPOLLOUT.rawValue : 0)
        event.data.u64 = connection.id
        epoll_ctl(epoll, EPOLL_CTL_MOD, connection.fd, &event)
    }

    private func close(_ connection: LineConnection) {
        epoll_ctl(epoll, EPOLL_CTL_DEL, connection.fd, nil)
        Glibc.close(connection.fd)
        connections[connection.id] = nil
        resumeAccepting(now: .now, connectionClosed: true)
    }

    /// Closes connections idle past the timeout, lingering ones whose peer has not closed within a
    /// few seconds of our last answer, and ones whose current line is not complete in time.
    private func closeIdleConnections(now: ContinuousClock.Instant) {
        for connection in Array(connections.values) {
            let idle = connection.inFlight == 0 && connection.pendingOutput == 0
                && now - connection.lastActivity > (connection.lingering ? .seconds(5) : configuration.idleTimeout)
            let slowLine = connection.partialSince.map { now - $0 > configuration.lineTimeout } ?? false
            if idle || slowLine { close(connection) }
        }
    }

    // MARK: - Plumbing

    private func wake() {
        var byte: UInt8 = 1
        _ = Glibc.write(wakePipe.write, &byte, 1) // EAGAIN: a wake-up is already pending
    }

    private func drainWakePipe() {
        var buffer = [UInt8](repeating: 0, count: 256)
        while buffer.withUnsafeMutableBytes({ Glibc.read(wakePipe.read, $0.baseAddress, 256) }) > 0 {}
    }

    func watch(_ fd: Int32, token: UInt64, events: UInt32) {
        var event = epoll_event()
        event.events = events
        event.data.u64 = token
        epoll_ctl(epoll, EPOLL_CTL_ADD, fd, &event)
    }
}

import CLinux
import EventLoops
import OrdersEventLog
#if canImport(Glibc)
import Glibc
#endif

/// A server's connections on one event loop: reading, framing requests (`P.Framing`), starting
/// each request's task on the loop, writing answers, backpressure, timeouts and the graceful stop.
///
/// Everything here runs on the loop's thread. A request's task runs there too (the loop is its
/// executor preference), so its answer goes straight into the connection's buffer, and every
/// answer of a turn leaves in one `send` per connection at the turn's end.
final class ConnectionLoop<P: WireProtocol>: ConnectionAdopting, @unchecked Sendable {
    // @unchecked: every property is touched only on `loop`'s thread.
    let loop: EventLoop
    private let server: ServerShared
    private let wire: P
    private var connections: [ObjectIdentifier: Connection<P>] = [:]
    private var readBuffer = [UInt8](repeating: 0, count: 64 << 10)
    private var lastSweep = ContinuousClock.now
    private var stopDeadline: ContinuousClock.Instant?
    private var stopped: (@Sendable () -> Void)?

    init(loop: EventLoop, server: ServerShared, wire: P) {
        self.loop = loop
        self.server = server
        self.wire = wire
    }

    /// Called once on the loop's thread before connections arrive.
    func start() {
        ticker = loop.addTicker { [self] in tick() }
    }
    private var ticker: UInt64?

    /// Takes an accepted socket (on the loop's thread).
    func adopt(_ fd: Int32) {
        guard stopDeadline == nil else {
            Glibc.close(fd)
            server.connectionClosed()
            return
        }
        let connection = Connection(fd: fd, owner: self, framing: wire.makeFraming())
        connections[ObjectIdentifier(connection)] = connection
        connection.token = loop.register(fd, events: EPOLLIN.rawValue, source: connection)
    }

    // MARK: - Events

    func handle(_ events: UInt32, on connection: Connection<P>) {
        if events & (EPOLLIN.rawValue | EPOLLHUP.rawValue | EPOLLERR.rawValue) != 0 {
            read(connection)
        }
        if !connection.closed, events & EPOLLOUT.rawValue != 0 {
            if !connection.flush() { close(connection); return }
            settle(connection)
        }
    }

    /// The turn is over: send what it answered.
    func flushed(_ connection: Connection<P>) {
        guard !connection.closed else { return }
        if !connection.flush() { close(connection); return }
        settle(connection)
    }

    private func read(_ connection: Connection<P>) {
        while connection.reading && !connection.closed {
            let received = readBuffer.withUnsafeMutableBytes { recv(connection.fd, $0.baseAddress, $0.count, 0) }
            if received > 0 && (connection.closeAfterFlush || connection.lingering) {
                continue // the rest of a refused request: dropped unread
            }
            if received > 0 {
                connection.lastActivity = .now
                connection.framing.append(readBuffer[0..<received])
                takeRequests(connection)
                settle(connection)
                if received < readBuffer.count { return }
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

    /// Starts the requests that are complete in the connection's input, as many as the protocol
    /// lets be in flight; the rest wait in the input until answers go out.
    private func takeRequests(_ connection: Connection<P>) {
        while !connection.closeAfterFlush && connection.inFlight < wire.maxInFlight {
            switch connection.framing.next() {
            case .needMore: return
            case .request(let request): dispatch(request, on: connection)
            case .interim(let bytes): queue(bytes, on: connection)
            case .refuse(let bytes):
                connection.closeAfterFlush = true
                queue(bytes, on: connection)
            }
        }
    }

    private func dispatch(_ request: P.Framing.Request, on connection: Connection<P>) {
        connection.inFlight += 1
        let wire = wire
        Task(executorPreference: loop) { [self] in
            let answer = await wire.respond(to: request)
            if loop.inEventLoop {
                self.answer(connection, answer)
            } else {
                loop.execute { [self] in self.answer(connection, answer) }
            }
        }
    }

    private func answer(_ connection: Connection<P>, _ answer: WireAnswer) {
        guard !connection.closed else { return }
        connection.inFlight -= 1
        // After a refusal, requests that were in flight still get their answers (the line
        // protocol's answers carry their ids); no new request is taken.
        if answer.close { connection.closeAfterFlush = true }
        queue(answer.bytes, on: connection)
        takeRequests(connection)
    }

    /// Adds bytes to the connection's output; they leave at the end of the loop's turn.
    private func queue(_ bytes: [UInt8], on connection: Connection<P>) {
        connection.output.append(contentsOf: bytes)
        if !connection.flushScheduled {
            connection.flushScheduled = true
            loop.flushAtTurnEnd(connection)
        }
    }

    /// Closes a finished connection, or sets what epoll watches from its buffers and counters.
    private func settle(_ connection: Connection<P>) {
        guard !connection.closed else { return }
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
        let configuration = server.configuration
        // A connection at its in-flight limit is still read while the requests waiting in its
        // input are under the size of one request: an HTTP connection (one request at a time)
        // is not taken out of epoll and put back for every request, and a client pipelining
        // without end still cannot grow the input past that bound.
        let read = !connection.peerClosed
            && (connection.lingering || (!connection.closeAfterFlush
                && (connection.inFlight < wire.maxInFlight || connection.framing.bufferedBytes < configuration.maxLineBytes)
                && connection.pendingOutput < configuration.maxPendingOutputBytes))
        let write = connection.pendingOutput > 0
        guard read != connection.reading || write != connection.writing else { return }
        connection.reading = read
        connection.writing = write
        loop.modify(connection.fd, token: connection.token,
                    events: (read ? EPOLLIN.rawValue : 0) | (write ? EPOLLOUT.rawValue : 0))
    }

    private func close(_ connection: Connection<P>) {
        guard !connection.closed else { return }
        connection.closed = true
        loop.deregister(connection.fd, token: connection.token)
        Glibc.close(connection.fd)
        connections[ObjectIdentifier(connection)] = nil
        server.connectionClosed()
    }

    // MARK: - Timeouts and the stop

    /// Stops reading new requests: answers those in flight, then closes (within `grace`);
    /// `done` is called on the loop's thread when every connection is closed.
    func stop(grace: Duration, done: @escaping @Sendable () -> Void) {
        stopDeadline = .now + grace
        stopped = done
        for connection in Array(connections.values) {
            connection.peerClosed = true
            settle(connection)
        }
        tick()
    }

    private func tick() {
        let now = ContinuousClock.now
        if let deadline = stopDeadline {
            let busy = connections.values.contains { $0.inFlight > 0 || $0.pendingOutput > 0 }
            if !busy || now >= deadline {
                for connection in Array(connections.values) { close(connection) }
                if let ticker { loop.removeTicker(ticker) }
                ticker = nil
                stopped?()
                stopped = nil
            }
            return
        }
        if now - lastSweep >= .seconds(1) {
            lastSweep = now
            closeIdleConnections(now: now)
        }
    }

    /// Closes connections idle past the timeout, lingering ones whose peer has not closed within a
    /// few seconds of our last answer, and ones whose current request is not complete in time
    /// (with the protocol's answer for that, if it has one).
    private func closeIdleConnections(now: ContinuousClock.Instant) {
        let configuration = server.configuration
        for connection in Array(connections.values) {
            let quiet = connection.inFlight == 0 && connection.pendingOutput == 0
            let idle = quiet && now - connection.lastActivity > (connection.lingering ? .seconds(5) : configuration.idleTimeout)
            let stalled = connection.inFlight == 0 && !connection.closeAfterFlush && !connection.lingering
                && (connection.framing.partialSince.map { now - $0 > configuration.lineTimeout } ?? false)
            if stalled, let bytes = wire.stalledAnswer {
                connection.closeAfterFlush = true
                queue(bytes, on: connection)
            } else if idle || stalled {
                close(connection)
            }
        }
    }
}

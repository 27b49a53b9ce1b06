import CLinux
import EventLoops
import OrdersEventLog
#if canImport(Glibc)
import Glibc
#endif

/// The listening socket, on one loop: accepts connections and hands them to the loops in turn,
/// and pauses when the process runs out of descriptors.
final class Acceptor: EventLoopSource, @unchecked Sendable {
    // @unchecked: every property is touched only on `loop`'s thread.
    let loop: EventLoop
    private let server: ServerShared
    /// The loops' connection owners, set before `start`.
    var parts: [any ConnectionAdopting] = []
    private var ticker: UInt64?
    private var listener: Int32
    private var token: UInt64 = 0
    private var next = 0
    /// Set while accepting is paused because the process is out of descriptors (EMFILE): the
    /// listener is out of epoll (it would stay readable and spin the loop) until a connection
    /// closes or this time passes. `pauseLogged` keeps it to one log line per episode.
    private var pausedUntil: ContinuousClock.Instant?
    private var pauseLogged = false

    /// Descriptors never given to clients: a process at its descriptor limit cannot reconnect to
    /// Redis, and libdispatch (under Swift's concurrency runtime) kills the process when it cannot
    /// open /proc/<tid>/stat to watch its worker threads (a core dump showed
    /// `_dispatch_workq_monitor_pools` trapping). A connection whose descriptor falls in the
    /// reserve is closed at once and accepting pauses, as when accept itself fails with EMFILE.
    static let reservedDescriptors: Int32 = 16
    private let descriptorCeiling: Int32 = {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return Int32.max }
        return Int32(clamping: limit.rlim_cur) - reservedDescriptors
    }()

    init(listener: Int32, loop: EventLoop, server: ServerShared) {
        self.listener = listener
        self.loop = loop
        self.server = server
    }

    /// On the loop's thread.
    func start() {
        token = loop.register(listener, events: EPOLLIN.rawValue, source: self)
        ticker = loop.addTicker { [self] in resume(connectionClosed: false) }
    }

    func handleEvents(_ events: UInt32) {
        while true {
            let fd = accept(listener, nil, nil)
            if fd < 0 {
                switch errno {
                case EINTR, ECONNABORTED: continue
                case EMFILE, ENFILE, ENOBUFS, ENOMEM: pause(String(cString: strerror(errno)))
                default: // EAGAIN: every waiting client is accepted, so an exhaustion is over
                    if pauseLogged {
                        pauseLogged = false
                        Log.info("server.accept_resumed", ["connections": server.openConnections.load(ordering: .relaxed)])
                    }
                }
                return
            }
            guard fd < descriptorCeiling else {
                Glibc.close(fd)
                pause("the last \(Self.reservedDescriptors) descriptors are kept for the service itself")
                return
            }
            guard server.connectionOpened() else {
                Glibc.close(fd)
                continue
            }
            ListeningSocket.setNonBlocking(fd)
            var one: Int32 = 1
            setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            let part = parts[next % parts.count]
            next += 1
            part.loop.execute { part.adopt(fd) }
        }
    }

    /// Closes the listener: no connection is accepted after this.
    func close() {
        if let ticker { loop.removeTicker(ticker) }
        ticker = nil
        guard listener >= 0 else { return }
        if pausedUntil == nil { loop.deregister(listener, token: token) }
        pausedUntil = nil
        server.acceptPaused.store(false, ordering: .relaxed)
        Glibc.close(listener)
        listener = -1
    }

    /// Out of descriptors: stop watching the listener (pending clients wait in the backlog) and
    /// keep serving the connections we have; `resume` tries again.
    private func pause(_ reason: String) {
        guard listener >= 0, pausedUntil == nil else { return }
        loop.deregister(listener, token: token)
        pausedUntil = .now + .milliseconds(500)
        server.acceptPaused.store(true, ordering: .relaxed)
        if !pauseLogged {
            pauseLogged = true
            Log.warning("server.accept_paused", ["reason": reason, "connections": server.openConnections.load(ordering: .relaxed),
                                                 "advice": "raise the descriptor limit (ulimit -n)"])
        }
    }

    /// Watches the listener again once a descriptor may be free: a connection closed, or the
    /// pause ran out (a descriptor freed elsewhere in the process).
    func resume(connectionClosed: Bool) {
        guard let until = pausedUntil, listener >= 0, connectionClosed || .now >= until else { return }
        pausedUntil = nil
        server.acceptPaused.store(false, ordering: .relaxed)
        token = loop.register(listener, events: EPOLLIN.rawValue, source: self)
    }
}

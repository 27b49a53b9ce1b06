import Foundation
import Synchronization
import CLinux
import OrdersEventLog
#if canImport(Glibc)
import Glibc
#endif

/// Accepting connections, and pausing when the process runs out of descriptors.
extension LineServer {
    func acceptAll() {
        while true {
            let fd = accept(listener, nil, nil)
            if fd < 0 {
                switch errno {
                case EINTR, ECONNABORTED: continue
                case EMFILE, ENFILE, ENOBUFS, ENOMEM: pauseAccepting(errno)
                default: // EAGAIN: every waiting client is accepted, so an exhaustion is over
                    if acceptPauseLogged {
                        acceptPauseLogged = false
                        Log.info("server.accept_resumed", ["connections": connections.count])
                    }
                }
                return
            }
            guard connections.count < configuration.maxConnections else {
                Glibc.close(fd)
                continue
            }
            ListeningSocket.setNonBlocking(fd)
            var one: Int32 = 1
            setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            let connection = LineConnection(fd: fd, id: nextConnectionId)
            nextConnectionId += 1
            connections[connection.id] = connection
            watch(fd, token: connection.id, events: EPOLLIN.rawValue)
        }
    }

    /// Out of descriptors: stop watching the listener (pending clients wait in the backlog) and
    /// keep serving the connections we have; `resumeAccepting` tries again.
    func pauseAccepting(_ error: Int32) {
        guard listener >= 0, acceptPausedUntil == nil else { return }
        epoll_ctl(epoll, EPOLL_CTL_DEL, listener, nil)
        acceptPausedUntil = .now + .milliseconds(500)
        if !acceptPauseLogged {
            acceptPauseLogged = true
            Log.warning("server.accept_paused", ["reason": String(cString: strerror(error)), "connections": connections.count,
                                                 "advice": "raise the descriptor limit (ulimit -n)"])
        }
    }

    /// Watches the listener again once a descriptor may be free: a connection closed, or the
    /// pause ran out (a descriptor freed elsewhere in the process).
    func resumeAccepting(now: ContinuousClock.Instant, connectionClosed: Bool) {
        guard let until = acceptPausedUntil, listener >= 0, connectionClosed || now >= until else { return }
        acceptPausedUntil = nil
        watch(listener, token: LineServer.listenerToken, events: EPOLLIN.rawValue)
    }
}

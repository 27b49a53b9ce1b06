import CLinux
import EventLoops
#if canImport(Glibc)
import Glibc
#endif

/// One client connection's buffers and counters. Owned by one event loop: only that loop's thread
/// reads, writes or changes it (`@unchecked Sendable` only so a request's task, which runs on the
/// same loop, can carry it).
final class Connection<P: WireProtocol>: EventLoopSource, TurnEndFlushing, @unchecked Sendable {
    let fd: Int32
    unowned let owner: ConnectionLoop<P>
    /// The epoll token of `fd` on the owner's loop.
    var token: UInt64 = 0
    /// Closed by the server; answers that complete later are dropped.
    var closed = false
    var flushScheduled = false
    var framing: P.Framing
    var output: [UInt8] = []
    var outputOffset = 0
    var inFlight = 0
    var lastActivity = ContinuousClock.now
    /// The peer closed its side; close ours once every response is written.
    var peerClosed = false
    /// The last answer is queued (a refusal, or one that closes); close once it is written.
    var closeAfterFlush = false
    /// Our side is shut down for writing (the last answer is out); what the peer still sends is
    /// read and dropped until it closes, so closing never resets the connection (a reset would
    /// destroy the answer before the peer reads it).
    var lingering = false
    /// Whether epoll currently watches for readability / writability.
    var reading = true
    var writing = false

    init(fd: Int32, owner: ConnectionLoop<P>, framing: P.Framing) {
        self.fd = fd
        self.owner = owner
        self.framing = framing
    }

    func handleEvents(_ events: UInt32) { owner.handle(events, on: self) }

    func flushAtTurnEnd() {
        flushScheduled = false
        owner.flushed(self)
    }

    var pendingOutput: Int { output.count - outputOffset }

    /// Writes as much buffered output as the socket takes now. Returns false on a write error.
    func flush() -> Bool {
        while pendingOutput > 0 {
            let written = output.withUnsafeBytes { buffer in
                send(fd, buffer.baseAddress! + outputOffset, pendingOutput, Int32(MSG_NOSIGNAL))
            }
            if written > 0 {
                outputOffset += written
            } else if written < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) {
                break
            } else if written < 0 && errno == EINTR {
                continue
            } else {
                return false
            }
        }
        if outputOffset == output.count {
            output.removeAll(keepingCapacity: output.capacity <= 64 << 10)
            outputOffset = 0
        } else if outputOffset > 1 << 20 {
            output.removeFirst(outputOffset)
            outputOffset = 0
        }
        return true
    }
}

#if canImport(Glibc)
import Glibc
#endif

/// One client connection's buffers and counters. Owned by the server's event-loop thread: only
/// that thread reads, writes or changes it.
final class LineConnection {
    let fd: Int32
    let id: UInt64
    var input: [UInt8] = []
    /// Where to resume looking for a newline in `input`, so a long line is scanned once.
    var scanFrom = 0
    var output: [UInt8] = []
    var outputOffset = 0
    var inFlight = 0
    var lastActivity = ContinuousClock.now
    /// When the first byte of the line now being received arrived (nil between lines).
    var partialSince: ContinuousClock.Instant?
    /// The peer closed its side; close ours once every response is written.
    var peerClosed = false
    /// A fatal protocol error was answered; close once that answer is written.
    var closeAfterFlush = false
    /// Our side is shut down for writing (the last answer is out); what the peer still sends is
    /// read and dropped until it closes, so closing never resets the connection (a reset would
    /// destroy the answer before the peer reads it).
    var lingering = false
    /// Whether epoll currently watches for readability / writability.
    var reading = true
    var writing = false

    init(fd: Int32, id: UInt64) {
        self.fd = fd
        self.id = id
    }

    var pendingOutput: Int { output.count - outputOffset }

    /// Takes the complete lines out of `input` (without their "\n", and without a "\r" before it).
    func takeLines() -> [[UInt8]] {
        var lines: [[UInt8]] = []
        var start = 0
        var index = scanFrom
        while index < input.count {
            if input[index] == UInt8(ascii: "\n") {
                var end = index
                if end > start && input[end - 1] == UInt8(ascii: "\r") { end -= 1 }
                lines.append(Array(input[start..<end]))
                start = index + 1
            }
            index += 1
        }
        if start > 0 { input.removeFirst(start) }
        scanFrom = input.count
        if input.isEmpty { partialSince = nil } else if start > 0 || partialSince == nil { partialSince = .now }
        return lines
    }

    /// Whether the unfinished line in `input` is already longer than `limit`. The limit counts a
    /// line's content, not its terminator: a "\r" at the end may be the first half of a "\r\n"
    /// whose "\n" is still on its way, so a line of exactly the limit is accepted however its
    /// bytes are split across reads.
    func partialLineExceeds(_ limit: Int) -> Bool {
        input.count - (input.last == UInt8(ascii: "\r") ? 1 : 0) > limit
    }

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

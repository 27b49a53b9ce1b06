import Foundation
import OrdersAPI
#if canImport(Glibc)
import Glibc
#endif

/// The hostile-input suite's HTTP part: each hostile message (`HTTPMutants`) on a connection of
/// its own, the sending side shut after it, and everything the server answers read until it
/// closes. Every answer must be a well-formed HTTP response with a status the API documents and
/// never a 5xx; the server must close (or answer) within the timeout, never hang; writes it
/// acknowledges (an `Orders-Log-Position` that is not a replay) are counted against the log.
extension HostileInputSuite {
    /// 505 (an HTTP version other than 1.x) is the one 5xx a client can cause.
    static let documentedStatuses: Set<Int> = [100, 200, 201, 202, 400, 401, 404, 405, 408, 409, 411, 413, 414, 415, 417, 431, 505]

    static func fuzzHTTP(port: Int, orderId: String, count: Int, seed: UInt64) throws -> FuzzOutcome {
        var generator = SeededGenerator(seed: seed)
        var outcome = FuzzOutcome()
        for _ in 0..<count {
            let message = HTTPMutants.mutant(orderId: orderId, using: &generator)
            let fd = try OrdersClient.connectedSocket(host: "127.0.0.1", port: port, timeout: .seconds(20))
            defer { close(fd) }
            var offset = 0
            while offset < message.count {
                let sent = message.withUnsafeBytes { send(fd, $0.baseAddress! + offset, message.count - offset, Int32(MSG_NOSIGNAL)) }
                if sent <= 0 { break } // the server may refuse and close before reading it all
                offset += sent
            }
            shutdown(fd, Int32(SHUT_WR))
            outcome.sent += 1
            var received: [UInt8] = []
            var chunk = [UInt8](repeating: 0, count: 65536)
            while true {
                let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                if count > 0 { received += chunk[0..<count]; continue }
                if count < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) {
                    outcome.problems.append("no close within 20 s after \(String(decoding: message.prefix(120), as: UTF8.self).debugDescription)")
                }
                break
            }
            for response in Self.responses(in: received) {
                if !documentedStatuses.contains(response.status) || (response.status >= 500 && response.status != 505) {
                    outcome.problems.append("answered \(response.status) to \(String(decoding: message.prefix(200), as: UTF8.self).debugDescription)")
                }
                if response.acknowledgedWrite { outcome.acknowledgedWrites += 1 }
            }
            if !received.isEmpty && Self.responses(in: received).isEmpty {
                outcome.problems.append("unreadable answer \(String(decoding: received.prefix(80), as: UTF8.self).debugDescription)")
            }
        }
        return outcome
    }

    /// The responses in a connection's bytes (`HTTPConnection.takeResponse`, guessing which
    /// answer a HEAD), and whether each acknowledged a write.
    static func responses(in bytes: [UInt8]) -> [(status: Int, acknowledgedWrite: Bool)] {
        var rest = bytes
        var found: [(Int, Bool)] = []
        while let response = try? HTTPConnection.takeResponse(from: &rest, head: nil) {
            found.append((response.status, response.headers["orders-log-position"] != nil && response.headers["idempotent-replayed"] == nil))
        }
        return found
    }
}

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
    static let documentedStatuses: Set<Int> = [100, 200, 201, 202, 400, 401, 404, 405, 408, 409, 411, 412, 413, 414, 415, 417, 431, 505]

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

    /// The responses in a connection's bytes: each head, and its body skipped by Content-Length
    /// (none after a HEAD's answer; no JSON body starts like a status line).
    static func responses(in bytes: [UInt8]) -> [(status: Int, acknowledgedWrite: Bool)] {
        var found: [(Int, Bool)] = []
        var rest = bytes[...]
        let blank: [UInt8] = [13, 10, 13, 10]
        while !rest.isEmpty {
            guard let end = rest.indices.first(where: { rest[$0...].starts(with: blank) }) else { break }
            let head = String(decoding: rest[rest.startIndex..<end], as: UTF8.self)
            rest = rest[(end + 4)...]
            let lines = head.components(separatedBy: "\r\n")
            let status = lines.first.flatMap { line -> Int? in
                line.hasPrefix("HTTP/1.1 ") ? Int(line.dropFirst(9).prefix(3)) : nil
            }
            guard let status else { break }
            var length = 0
            var position = false, replayed = false
            for line in lines.dropFirst() {
                let lower = line.lowercased()
                if lower.hasPrefix("content-length:") { length = Int(lower.dropFirst(15).trimmingCharacters(in: .whitespaces)) ?? 0 }
                if lower.hasPrefix("orders-log-position:") { position = true }
                if lower.hasPrefix("idempotent-replayed:") { replayed = true }
            }
            found.append((status, position && !replayed))
            // The answer to a HEAD has a Content-Length but no body: the next answer follows at once.
            if !rest.starts(with: Array("HTTP/1.1 ".utf8)) { rest = rest.dropFirst(min(length, rest.count)) }
        }
        return found
    }
}

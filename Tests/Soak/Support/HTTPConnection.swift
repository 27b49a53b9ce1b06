import Foundation
import OrdersAPI
import OrdersDomain
#if canImport(Glibc)
import Glibc
#endif

/// A plain HTTP/1.1 client on one socket, for the suites and tests that need to see exactly what
/// goes over the wire: raw requests, pipelining, and whether the server closes.
public final class HTTPConnection {
    public let fd: Int32
    private var buffer: [UInt8] = []

    public init(port: Int, timeout: Duration = .seconds(20)) throws {
        fd = try OrdersClient.connectedSocket(host: "127.0.0.1", port: port, timeout: timeout)
    }

    deinit { close(fd) }

    public struct Response: Sendable {
        public var status: Int
        /// Lower-cased names.
        public var headers: [String: String]
        public var body: [UInt8]
        public var text: String { String(decoding: body, as: UTF8.self) }
        public var json: JSON? { try? JSON.parse(bytes: body) }
        /// `data` of a `{"data": …}` answer.
        public var data: JSON? { json?["data"] }
    }

    public struct Closed: Error {}
    public struct TimedOut: Error {}

    public func send(_ raw: String) throws { try send(Array(raw.utf8)) }

    public func send(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL)) }
            guard sent > 0 else { throw Closed() }
            offset += sent
        }
    }

    /// Sends one request (with Host, and Content-Length for a body; a JSON Content-Type unless
    /// `headers` name one) and reads its answer.
    public func request(_ method: String, _ path: String, body: String? = nil, headers: [(String, String)] = []) throws -> Response {
        var raw = "\(method) \(path) HTTP/1.1\r\nHost: test\r\n"
        for (name, value) in headers { raw += "\(name): \(value)\r\n" }
        let declaresType = headers.contains { $0.0.lowercased() == "content-type" }
        if let body { raw += (declaresType ? "" : "Content-Type: application/json\r\n") + "Content-Length: \(body.utf8.count)\r\n" }
        raw += "\r\n" + (body ?? "")
        try send(raw)
        return try readResponse(head: method == "HEAD")
    }

    /// Reads one response: its head, then `Content-Length` bytes of body (none after HEAD).
    public func readResponse(head: Bool = false) throws -> Response {
        while true {
            if let response = try Self.takeResponse(from: &buffer, head: head) { return response }
            try fill()
        }
    }

    /// The response at the front of `bytes`, taken off them; nil while it is incomplete. `head`
    /// says whether it answers a HEAD (no body, whatever its Content-Length); nil guesses it from
    /// bytes read until the server closed: no body when nothing or another status line follows the
    /// head (no JSON body starts like one).
    public static func takeResponse(from bytes: inout [UInt8], head: Bool?) throws -> Response? {
        guard let end = find([13, 10, 13, 10], in: bytes) else { return nil }
        var lines = String(decoding: bytes[0..<end], as: UTF8.self).components(separatedBy: "\r\n")
        let statusLine = lines.removeFirst().split(separator: " ")
        guard statusLine.count >= 2, statusLine[0].hasPrefix("HTTP/"), let status = Int(statusLine[1]) else { throw Closed() }
        var headers: [String: String] = [:]
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        let bodyStart = end + 4
        let bodyless = head ?? (bytes.count == bodyStart || bytes[bodyStart...].starts(with: "HTTP/1.1 ".utf8))
        let length = bodyless ? 0 : Int(headers["content-length"] ?? "0") ?? 0
        guard bytes.count >= bodyStart + length else { return nil }
        let body = Array(bytes[bodyStart..<(bodyStart + length)])
        bytes.removeFirst(bodyStart + length)
        return Response(status: status, headers: headers, body: body)
    }

    /// True when the server closes the connection (reads reach its end) before the socket's
    /// timeout; what it still sends first is skipped.
    public func serverCloses() -> Bool {
        while true {
            do { try fill() } catch is Closed { return true } catch { return false }
        }
    }

    private func fill() throws {
        var chunk = [UInt8](repeating: 0, count: 65536)
        let received = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if received < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) { throw TimedOut() }
        guard received > 0 else { throw Closed() }
        buffer += chunk[0..<received]
    }

    private static func find(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        for index in 0...(haystack.count - needle.count) where haystack[index..<(index + needle.count)].elementsEqual(needle) {
            return index
        }
        return nil
    }
}

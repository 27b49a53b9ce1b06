import Foundation
import OrdersDomain
#if canImport(Glibc)
import Glibc
#endif

/// A small blocking client for the line protocol: one TCP connection, one request at a time (or
/// several sent before reading, with `send` and `receive`). Used by the CLI and the benchmark.
/// Not thread-safe: use one per thread or task.
public final class OrdersClient {
    public let host: String
    public let port: Int
    public var token: String?
    private let fd: Int32
    private var buffer: [UInt8] = []
    private var nextId = 1

    /// An error answer, or a failure to get one, with the server's codes (`APIError.Code`).
    public struct Failure: Error, CustomStringConvertible {
        public let code: APIError.Code
        public let message: String
        /// For `concurrency_conflict`: the order's version when the command was refused.
        public var actualVersion: Int? = nil
        public var description: String { "\(code.rawValue): \(message)" }
    }

    /// Connects to `host:port`, with `timeout` for connecting and for each reply.
    public init(host: String = "127.0.0.1", port: Int = 7480, token: String? = nil,
                timeout: Duration = .seconds(30)) throws {
        // The socket stays in a local until it is connected: a class whose properties are all set
        // runs deinit when its initializer throws, and deinit closing an fd already closed here
        // would close whatever socket another thread had been given that number meanwhile.
        let socketFD = try Self.connectedSocket(host: host, port: port, timeout: timeout)
        self.fd = socketFD
        self.host = host
        self.port = port
        self.token = token
    }

    deinit { Glibc.close(fd) }

    /// A TCP socket connected to `host:port` (TCP_NODELAY; `timeout` for sends and receives), for
    /// this client and for drivers that keep their own sockets.
    public static func connectedSocket(host: String, port: Int, timeout: Duration = .seconds(30)) throws -> Int32 {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &result) == 0, let info = result else {
            throw Failure(code: .unavailable, message: "cannot resolve \(host)")
        }
        defer { freeaddrinfo(result) }
        let socketFD = socket(info.pointee.ai_family, info.pointee.ai_socktype, info.pointee.ai_protocol)
        guard socketFD >= 0 else { throw Failure(code: .unavailable, message: "socket() failed") }
        let ms = Int(timeout.milliseconds)
        var time = timeval(tv_sec: ms / 1000, tv_usec: (ms % 1000) * 1000)
        setsockopt(socketFD, SOL_SOCKET, SO_RCVTIMEO, &time, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(socketFD, SOL_SOCKET, SO_SNDTIMEO, &time, socklen_t(MemoryLayout<timeval>.size))
        var one: Int32 = 1
        setsockopt(socketFD, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        guard connect(socketFD, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0 else {
            let reason = String(cString: strerror(errno))
            Glibc.close(socketFD)
            throw Failure(code: .unavailable, message: "cannot connect to \(host):\(port): \(reason)")
        }
        return socketFD
    }

    /// Sends one request and returns its `result`, or throws its error.
    public func call(_ op: String, _ parameters: [String: Any] = [:]) throws -> Any {
        let id = try send(op, parameters)
        let response = try receive()
        guard (response["id"] as? Int) == id else {
            throw Failure(code: .internal, message: "response id \(response["id"] ?? "none") does not match \(id)")
        }
        return try Self.result(of: response)
    }

    /// Sends one request without waiting; returns the id it was given.
    @discardableResult
    public func send(_ op: String, _ parameters: [String: Any] = [:]) throws -> Int {
        var request = parameters
        let id = nextId
        nextId += 1
        request["id"] = id
        request["op"] = op
        if let token { request["token"] = token }
        var line = try JSONLineEncoder.encode(request)
        line.append(UInt8(ascii: "\n"))
        try sendRaw(line)
        return id
    }

    /// Writes bytes as they are (tests use it to send malformed lines).
    public func sendRaw(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL)) }
            if written < 0 && errno == EINTR { continue }
            guard written > 0 else {
                throw Failure(code: .unavailable, message: "connection closed while sending")
            }
            offset += written
        }
    }

    /// Reads the next response line and parses it.
    public func receive() throws -> [String: Any] {
        guard let line = try receiveLine() else {
            throw Failure(code: .unavailable, message: "the server closed the connection")
        }
        guard let object = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any] else {
            throw Failure(code: .internal, message: "unreadable response: \(String(decoding: line.prefix(200), as: UTF8.self))")
        }
        return object
    }

    /// The next raw line, or nil when the server closed the connection.
    public func receiveLine() throws -> [UInt8]? {
        while true {
            if let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                let line = Array(buffer[..<newline])
                buffer.removeFirst(newline + 1)
                return line
            }
            var chunk = [UInt8](repeating: 0, count: 64 << 10)
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count == 0 { return nil }
            if count < 0 {
                if errno == EINTR { continue }
                throw Failure(code: .unavailable, message: errno == EAGAIN ? "no response within the timeout"
                                : "receive failed: \(String(cString: strerror(errno)))")
            }
            buffer.append(contentsOf: chunk[0..<count])
        }
    }

    public static func result(of response: [String: Any]) throws -> Any {
        if response["ok"] as? Bool == true { return response["result"] ?? NSNull() }
        let error = response["error"] as? [String: Any] ?? [:]
        throw Failure(code: (error["code"] as? String).flatMap(APIError.Code.init(rawValue:)) ?? .internal, message: error["message"] as? String ?? "unknown error",
                      actualVersion: error["actualVersion"] as? Int)
    }
}

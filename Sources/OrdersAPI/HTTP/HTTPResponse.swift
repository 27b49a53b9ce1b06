#if canImport(Glibc)
import Glibc
#endif
import Synchronization
import OrdersDomain

/// One HTTP/1.1 response, written as bytes by `encode`.
public struct HTTPResponse: Sendable {
    public var status: Int
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]
    /// Close the connection once this is sent (whatever the request asked).
    public var close: Bool
    /// The `code` of an error answer (for the metrics' outcome label).
    public var errorCode: String?

    public init(status: Int, contentType: String? = "application/json", headers: [(String, String)] = [],
                body: [UInt8] = [], close: Bool = false) {
        self.status = status
        self.headers = headers.map { (name: $0.0, value: $0.1) }
        if let contentType { self.headers.append((name: "Content-Type", value: contentType)) }
        self.body = body
        self.close = close
    }

    /// The status line, headers (with Date, Content-Length and Connection) and, unless the
    /// request was HEAD, the body. `http10`: the client speaks HTTP/1.0, which closes unless told
    /// the connection is kept.
    public func encode(keepAlive: Bool, head: Bool = false, http10: Bool = false) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(body.count + 160 + headers.count * 32)
        bytes += Self.statusLines[status] ?? Array("HTTP/1.1 \(status) \(Self.reason(status))\r\n".utf8)
        bytes += "Date: ".utf8
        bytes += HTTPDate.now()
        bytes += "\r\n".utf8
        for header in headers {
            bytes += header.name.utf8
            bytes += ": ".utf8
            bytes += header.value.utf8
            bytes += "\r\n".utf8
        }
        // 1xx and 204 carry no body and no length; everything else says its length, HEAD too.
        if status >= 200 && status != 204 && status != 304 {
            bytes += "Content-Length: \(body.count)\r\n".utf8
        }
        if !keepAlive || close {
            bytes += "Connection: close\r\n".utf8
        } else if http10 {
            bytes += "Connection: keep-alive\r\n".utf8
        }
        bytes += "\r\n".utf8
        if !head { bytes += body }
        return bytes
    }

    /// `{"code":…,"error":…}` with `extra` fields, sorted by key.
    public static func error(_ status: Int, code: APIError.Code, message: String, extra: [(String, String)] = [],
                             headers: [(String, String)] = [], close: Bool = false) -> HTTPResponse {
        let body = JSONBytes.object([("code", .string(code.rawValue)), ("error", .string(message))] + extra.map { ($0.0, .string($0.1)) })
        var response = HTTPResponse(status: status, headers: headers, body: body, close: close)
        response.errorCode = code.rawValue
        return response
    }

    /// The status lines of the statuses this server sends, built once.
    static let statusLines: [Int: [UInt8]] = Dictionary(uniqueKeysWithValues: [
        100, 200, 201, 202, 204, 400, 401, 404, 405, 408, 409, 411, 412, 413, 414, 415, 417, 431, 500, 501, 503, 505,
    ].map { ($0, Array("HTTP/1.1 \($0) \(reason($0))\r\n".utf8)) })

    static func reason(_ status: Int) -> String {
        switch status {
        case 100: "Continue"
        case 200: "OK"
        case 201: "Created"
        case 202: "Accepted"
        case 204: "No Content"
        case 400: "Bad Request"
        case 401: "Unauthorized"
        case 404: "Not Found"
        case 405: "Method Not Allowed"
        case 408: "Request Timeout"
        case 409: "Conflict"
        case 411: "Length Required"
        case 412: "Precondition Failed"
        case 413: "Content Too Large"
        case 414: "URI Too Long"
        case 415: "Unsupported Media Type"
        case 417: "Expectation Failed"
        case 431: "Request Header Fields Too Large"
        case 500: "Internal Server Error"
        case 501: "Not Implemented"
        case 503: "Service Unavailable"
        case 505: "HTTP Version Not Supported"
        default: "Status \(status)"
        }
    }
}

/// The HTTP layer's own small JSON objects (errors, probes, command answers), keys sorted.
enum JSONBytes {
    enum Value {
        case string(String)
        /// Already JSON (a number, a list).
        case raw(String)
    }

    static func object(_ fields: [(String, Value)]) -> [UInt8] {
        var json = JSONWriter()
        json.raw("{")
        for (index, field) in fields.sorted(by: { $0.0.utf8.lexicographicallyPrecedes($1.0.utf8) }).enumerated() {
            json.key(field.0, first: index == 0)
            switch field.1 {
            case .string(let text): json.string(text)
            case .raw(let fragment): json.raw(fragment)
            }
        }
        json.raw("}")
        return json.bytes
    }
}

/// The `Date` header's value (IMF-fixdate, UTC), formatted once per second.
enum HTTPDate {
    private static let cache = Mutex<(second: Int, text: [UInt8])>((-1, []))

    static func now() -> [UInt8] {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        let second = spec.tv_sec
        if let cached = cache.withLock({ $0.second == second ? $0.text : nil }) { return cached }
        var time = time_t(second)
        var parts = tm()
        gmtime_r(&time, &parts)
        let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        let text = Array("\(days[Int(parts.tm_wday)]), \(two(parts.tm_mday)) \(months[Int(parts.tm_mon)]) \(parts.tm_year + 1900) \(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)) GMT".utf8)
        cache.withLock { $0 = (second, text) }
        return text
    }
}

extension HTTPResponse {
    /// An error's answer: the status its code has over HTTP (`APIError.Code.httpStatus`),
    /// `{"code","error",<details>}`, the current ETag with a conflict, `Retry-After` when trying
    /// again later can succeed.
    init(error: APIError) {
        var extra: [(String, JSONBytes.Value)] = []
        for (key, value) in error.details.sorted(by: { $0.key < $1.key }) {
            switch value {
            case let number as Int: extra.append((key, .raw(String(number))))
            default: extra.append((key, .string("\(value)")))
            }
        }
        let body = JSONBytes.object([("code", .string(error.code.rawValue)), ("error", .string(error.message))] + extra)
        var headers: [(String, String)] = []
        if error.code == .concurrencyConflict, let actual = error.details["actualVersion"] as? Int {
            headers.append(("ETag", "\"\(actual)\""))
        }
        if error.code == .unavailable || error.code == .staleRead { headers.append(("Retry-After", "1")) }
        self.init(status: error.code.httpStatus, headers: headers, body: body)
        errorCode = error.code.rawValue
    }
}

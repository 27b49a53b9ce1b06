/// One HTTP/1.1 request as the framing read it: the head's parts, the body, and whether the
/// connection stays open after the answer.
public struct HTTPRequest: Sendable {
    public var method: String
    /// The path as sent (percent-encoded), without the query.
    public var path: String
    /// The query as sent, without the "?" (nil: none).
    public var query: String?
    /// Header names lower-cased, in the order received.
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]
    /// False for `Connection: close`, and for HTTP/1.0 without `Connection: keep-alive`.
    public var keepAlive: Bool
    /// An HTTP/1.0 request: a kept connection must be confirmed with `Connection: keep-alive`.
    public var http10 = false

    /// The value of the first header called `name` (lower-case).
    public func header(_ name: String) -> String? {
        headers.first { $0.name == name }?.value
    }

    /// The path's segments, percent-decoded ("/api/v1/orders/" → ["api", "v1", "orders"]); nil
    /// when a segment is not valid percent-encoded UTF-8.
    public var pathSegments: [String]? {
        var segments: [String] = []
        for part in path.utf8.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: true) {
            if !part.contains(UInt8(ascii: "%")) {
                segments.append(String(decoding: part, as: UTF8.self)) // nothing to decode (the request line is ASCII)
                continue
            }
            guard let decoded = PercentDecoding.decode(Substring(part), plusIsSpace: false) else { return nil }
            segments.append(decoded)
        }
        return segments
    }

    /// The query's parameters, percent-decoded ("+" is a space); the first of repeated names wins.
    /// Nil when a name or value is not valid percent-encoded UTF-8.
    public var queryParameters: [String: String]? {
        var parameters: [String: String] = [:]
        guard let query, !query.isEmpty else { return parameters }
        for pair in query.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = PercentDecoding.decode(parts[0], plusIsSpace: true),
                  let value = PercentDecoding.decode(parts.count > 1 ? parts[1] : "", plusIsSpace: true) else { return nil }
            if parameters[name] == nil { parameters[name] = value }
        }
        return parameters
    }
}

/// `%XX` escapes to bytes, the bytes as UTF-8.
enum PercentDecoding {
    static func decode(_ text: Substring, plusIsSpace: Bool) -> String? {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        var iterator = text.utf8.makeIterator()
        while let byte = iterator.next() {
            if byte == UInt8(ascii: "%") {
                guard let high = iterator.next().flatMap(hexValue), let low = iterator.next().flatMap(hexValue) else { return nil }
                bytes.append(high << 4 | low)
            } else if byte == UInt8(ascii: "+") && plusIsSpace {
                bytes.append(UInt8(ascii: " "))
            } else {
                bytes.append(byte)
            }
        }
        return String(validating: bytes, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}

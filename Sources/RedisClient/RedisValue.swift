/// One Redis reply, converted from hiredis's `redisReply` once and owned by Swift.
///
/// Bulk strings stay raw bytes: Redis values are binary-safe and may hold NUL bytes or
/// invalid UTF-8, so decoding text is the caller's explicit choice (`string`).
public enum RedisValue: Sendable, Hashable {
    case status(String)
    case error(String)
    case integer(Int64)
    case bulk([UInt8])
    case array([RedisValue])
    case null

    /// Text of a status or bulk reply (bulk decoded as UTF-8, invalid sequences repaired).
    public var string: String? {
        switch self {
        case .status(let text): return text
        case .bulk(let bytes): return String(decoding: bytes, as: UTF8.self)
        default: return nil
        }
    }

    public var bytes: [UInt8]? {
        if case .bulk(let bytes) = self { return bytes }
        return nil
    }

    /// An integer reply, or a bulk/status reply that spells an integer (Redis returns numbers
    /// both ways, e.g. `HGET` of a counter).
    public var int: Int? {
        switch self {
        case .integer(let value): return Int(value)
        case .bulk, .status: return string.flatMap { Int($0) }
        default: return nil
        }
    }

    public var array: [RedisValue]? {
        if case .array(let values) = self { return values }
        return nil
    }

    /// A flat array read two by two: field and value (HGETALL, a stream entry's fields, XINFO),
    /// or member and score (WITHSCORES). A trailing odd element is left out.
    public var pairs: [(RedisValue, RedisValue)] {
        guard let values = array else { return [] }
        return stride(from: 0, to: values.count - 1, by: 2).map { (values[$0], values[$0 + 1]) }
    }

    /// `pairs` as a map from each field's text to its value's text (a missing text is "").
    public var fields: [String: String] { fieldValues.mapValues { $0.string ?? "" } }

    /// `pairs` as a map from each field's text to its value (XINFO's numbers stay integers).
    public var fieldValues: [String: RedisValue] {
        var fields: [String: RedisValue] = [:]
        for (name, value) in pairs { if let name = name.string { fields[name] = value } }
        return fields
    }

    /// Throws the server's error text for an error reply, returns the value otherwise.
    @discardableResult
    public func orThrow() throws(RedisError) -> RedisValue {
        if case .error(let message) = self { throw RedisError.server(message) }
        return self
    }
}

extension RedisValue: CustomStringConvertible {
    /// Printed the way redis-cli shows replies, so error messages that quote a reply stay readable.
    /// Bulk strings are quoted, with bytes that are not printable ASCII escaped as `\xNN`.
    public var description: String {
        switch self {
        case .status(let text): return text
        case .error(let message): return "(error) \(message)"
        case .integer(let value): return "(integer) \(value)"
        case .null: return "(nil)"
        case .array(let values): return "[" + values.map(\.description).joined(separator: ", ") + "]"
        case .bulk(let bytes):
            var text = "\""
            for byte in bytes.prefix(512) {
                switch byte {
                case UInt8(ascii: "\""): text += "\\\""
                case UInt8(ascii: "\\"): text += "\\\\"
                case 0x20...0x7e: text.unicodeScalars.append(Unicode.Scalar(byte))
                default: text += "\\x" + (byte < 16 ? "0" : "") + String(byte, radix: 16)
                }
            }
            return text + (bytes.count > 512 ? "…\" (\(bytes.count) bytes)" : "\"")
        }
    }
}

/// A small JSON reader and writer for the shapes on the hot paths (events, order records),
/// several times faster than Foundation's JSONDecoder/JSONEncoder, which dominated every profile
/// of the projectors and of replay. Output matches what JSONEncoder wrote with sorted keys and
/// unescaped slashes, so stored bytes do not change.
public enum JSON: Sendable, Equatable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case array([JSON])
    case object([String: JSON])

    public struct ParseError: Error, CustomStringConvertible {
        public let description: String
    }

    /// Parses JSON text (RFC 8259, strictly: no trailing commas, no duplicate keys, numbers as
    /// the grammar writes them, nesting at most 64 deep).
    public static func parse(_ text: String) throws(ParseError) -> JSON {
        var text = text
        let result: Result<JSON, ParseError> = text.withUTF8 { bytes in
            var reader = Reader(bytes: bytes)
            return Result { () throws(ParseError) -> JSON in try reader.document() }
        }
        return try result.get()
    }

    /// Parses bytes that should be one JSON document. Invalid UTF-8 is refused rather than
    /// repaired, so what a client sent is what is stored, or nothing is.
    public static func parse(bytes: [UInt8]) throws(ParseError) -> JSON {
        try parse(bytes: bytes, rawValueOf: nil).value
    }

    /// Parses a document and also returns the exact bytes of the value of `key` in the top-level
    /// object (when there is one and it has that key): what a server echoes back unchanged, such
    /// as a request's `id` (`123456789012345678901234567890` stays that, not a rounded double).
    public static func parse(bytes: [UInt8], rawValueOf key: String?) throws(ParseError) -> (value: JSON, raw: ArraySlice<UInt8>?) {
        guard String(validating: bytes, as: UTF8.self) != nil else {
            throw ParseError(description: "the text is not valid UTF-8")
        }
        let result: Result<(JSON, Range<Int>?), ParseError> = bytes.withUnsafeBufferPointer { buffer in
            var reader = Reader(bytes: buffer)
            reader.captureKey = key
            return Result { () throws(ParseError) -> (JSON, Range<Int>?) in (try reader.document(), reader.captured) }
        }
        let (value, range) = try result.get()
        return (value, range.map { bytes[$0] })
    }

    public subscript(key: String) -> JSON? {
        if case .object(let fields) = self { return fields[key] }
        return nil
    }

    public var string: String? { if case .string(let value) = self { return value }; return nil }
    public var int: Int64? { if case .int(let value) = self { return value }; return nil }
    public var array: [JSON]? { if case .array(let values) = self { return values }; return nil }

    private struct Reader {
        let bytes: UnsafeBufferPointer<UInt8>
        var index = 0
        /// A top-level key whose value's byte range is recorded in `captured`.
        var captureKey: String?
        var captured: Range<Int>?

        mutating func document() throws(ParseError) -> JSON {
            let value = try value(depth: 0)
            skipWhitespace()
            guard index == bytes.count else { throw error("trailing characters") }
            return value
        }

        func error(_ message: String) -> ParseError { ParseError(description: "\(message) at byte \(index)") }

        mutating func skipWhitespace() {
            while index < bytes.count, bytes[index] == 0x20 || bytes[index] == 0x0a || bytes[index] == 0x0d || bytes[index] == 0x09 {
                index += 1
            }
        }

        mutating func value(depth: Int) throws(ParseError) -> JSON {
            guard depth < 64 else { throw error("nested too deeply") }
            skipWhitespace()
            guard index < bytes.count else { throw error("unexpected end") }
            switch bytes[index] {
            case UInt8(ascii: "{"):
                index += 1
                var fields: [String: JSON] = [:]
                skipWhitespace()
                if index < bytes.count, bytes[index] == UInt8(ascii: "}") { index += 1; return .object(fields) }
                while true {
                    skipWhitespace()
                    guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw error("expected a key") }
                    let key = try string()
                    skipWhitespace()
                    guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { throw error("expected ':'") }
                    index += 1
                    guard fields[key] == nil else { throw error("duplicate key \"\(key.prefix(40))\"") }
                    skipWhitespace()
                    let start = index
                    fields[key] = try value(depth: depth + 1)
                    if depth == 0, key == captureKey { captured = start..<index }
                    skipWhitespace()
                    guard index < bytes.count else { throw error("unexpected end") }
                    if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
                    if bytes[index] == UInt8(ascii: "}") { index += 1; return .object(fields) }
                    throw error("expected ',' or '}'")
                }
            case UInt8(ascii: "["):
                index += 1
                var values: [JSON] = []
                skipWhitespace()
                if index < bytes.count, bytes[index] == UInt8(ascii: "]") { index += 1; return .array(values) }
                while true {
                    values.append(try value(depth: depth + 1))
                    skipWhitespace()
                    guard index < bytes.count else { throw error("unexpected end") }
                    if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
                    if bytes[index] == UInt8(ascii: "]") { index += 1; return .array(values) }
                    throw error("expected ',' or ']'")
                }
            case UInt8(ascii: "\""):
                return .string(try string())
            case UInt8(ascii: "t"): return try literal("true", .bool(true))
            case UInt8(ascii: "f"): return try literal("false", .bool(false))
            case UInt8(ascii: "n"): return try literal("null", .null)
            default:
                return try number()
            }
        }

        mutating func literal(_ word: StaticString, _ value: JSON) throws(ParseError) -> JSON {
            let count = word.utf8CodeUnitCount
            guard index + count <= bytes.count else { throw error("unexpected end") }
            for offset in 0..<count where bytes[index + offset] != word.utf8Start[offset] { throw error("unknown literal") }
            index += count
            return value
        }

        /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`, nothing else (no `01`, `1.`,
        /// `.5`, `+1`, `NaN`). An integer that fits in 64 bits is `.int`; anything else `.double`.
        mutating func number() throws(ParseError) -> JSON {
            let start = index
            func digit(_ at: Int) -> Bool { at < bytes.count && bytes[at] >= 0x30 && bytes[at] <= 0x39 }
            func digits() -> Int {
                let first = index
                while digit(index) { index += 1 }
                return index - first
            }
            if index < bytes.count, bytes[index] == UInt8(ascii: "-") { index += 1 }
            guard digit(index) else { throw error(index == start ? "unexpected character" : "a digit must follow '-'") }
            if bytes[index] == 0x30 {
                index += 1
                guard !digit(index) else { throw error("a number must not have a leading zero") }
            } else {
                _ = digits()
            }
            var integral = true
            if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
                index += 1
                integral = false
                guard digits() > 0 else { throw error("a digit must follow '.'") }
            }
            if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
                index += 1
                integral = false
                if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
                guard digits() > 0 else { throw error("a digit must follow the exponent") }
            }
            let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
            if integral, let value = Int64(text) { return .int(value) }
            guard let value = Double(text), value.isFinite else { throw error("number out of range \(text.prefix(40))") }
            return .double(value)
        }

        mutating func string() throws(ParseError) -> String {
            index += 1 // the opening quote
            let start = index
            // Fast path: no escapes, copy the bytes in one go.
            while index < bytes.count, bytes[index] != UInt8(ascii: "\""), bytes[index] != UInt8(ascii: "\\") {
                guard bytes[index] >= 0x20 else { throw error("control character in a string") }
                index += 1
            }
            guard index < bytes.count else { throw error("unterminated string") }
            if bytes[index] == UInt8(ascii: "\"") {
                defer { index += 1 }
                return String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
            }
            var buffer = Array(bytes[start..<index])
            while index < bytes.count {
                let byte = bytes[index]
                if byte == UInt8(ascii: "\"") {
                    index += 1
                    return String(decoding: buffer, as: UTF8.self)
                }
                guard byte >= 0x20 else { throw error("control character in a string") }
                if byte != UInt8(ascii: "\\") {
                    buffer.append(byte)
                    index += 1
                    continue
                }
                index += 1
                guard index < bytes.count else { throw error("unterminated escape") }
                let escaped = bytes[index]
                index += 1
                switch escaped {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): buffer.append(escaped)
                case UInt8(ascii: "b"): buffer.append(0x08)
                case UInt8(ascii: "f"): buffer.append(0x0c)
                case UInt8(ascii: "n"): buffer.append(0x0a)
                case UInt8(ascii: "r"): buffer.append(0x0d)
                case UInt8(ascii: "t"): buffer.append(0x09)
                case UInt8(ascii: "u"):
                    var scalar = try hex4()
                    if (0xD800..<0xDC00).contains(scalar) { // a surrogate pair
                        guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else {
                            throw error("lone surrogate")
                        }
                        index += 2
                        let low = try hex4()
                        guard (0xDC00..<0xE000).contains(low) else { throw error("bad surrogate pair") }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    }
                    guard let unicode = Unicode.Scalar(scalar) else { throw error("bad \\u escape") }
                    buffer.append(contentsOf: Array(String(Character(unicode)).utf8))
                default:
                    throw error("bad escape")
                }
            }
            throw error("unterminated string")
        }

        mutating func hex4() throws(ParseError) -> UInt32 {
            guard index + 4 <= bytes.count else { throw error("short \\u escape") }
            var value: UInt32 = 0
            for _ in 0..<4 {
                let byte = bytes[index]
                let digit: UInt32
                switch byte {
                case 0x30...0x39: digit = UInt32(byte - 0x30)
                case 0x41...0x46: digit = UInt32(byte - 0x41 + 10)
                case 0x61...0x66: digit = UInt32(byte - 0x61 + 10)
                default: throw error("bad hex digit")
                }
                value = value * 16 + digit
                index += 1
            }
            return value
        }
    }
}

/// Writes JSON text the way JSONEncoder does with `.sortedKeys` and `.withoutEscapingSlashes`:
/// callers write object keys in sorted order. Bytes, so the server can hand them on as they are.
public struct JSONWriter {
    public private(set) var bytes: [UInt8] = []

    public init() { bytes.reserveCapacity(256) }

    public var text: String { String(decoding: bytes, as: UTF8.self) }

    public mutating func raw(_ fragment: String) { bytes += fragment.utf8 }

    public mutating func string(_ value: String) { Self.appendString(value, to: &bytes) }

    public mutating func key(_ name: String, first: Bool = false) {
        if !first { bytes.append(UInt8(ascii: ",")) }
        string(name)
        bytes.append(UInt8(ascii: ":"))
    }

    /// Appends `value` as a JSON string: `"` and `\` escaped, \n \r \t \b \f by name, other
    /// control characters as \u00xx; everything else (slashes, non-ASCII) as it is. The one
    /// escaper of the project: events, records and the server's answers.
    public static func appendString(_ value: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        // Most text needs no escape: copied in one go (a byte-by-byte copy showed in profiles).
        if !value.utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) {
            out.append(contentsOf: value.utf8)
            out.append(UInt8(ascii: "\""))
            return
        }
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out += [0x5c, 0x22]
            case UInt8(ascii: "\\"): out += [0x5c, 0x5c]
            case 0x0a: out += [0x5c, UInt8(ascii: "n")]
            case 0x0d: out += [0x5c, UInt8(ascii: "r")]
            case 0x09: out += [0x5c, UInt8(ascii: "t")]
            case 0x08: out += [0x5c, UInt8(ascii: "b")]
            case 0x0c: out += [0x5c, UInt8(ascii: "f")]
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                out += [0x5c, UInt8(ascii: "u"), 0x30, 0x30, hex[Int(byte >> 4)], hex[Int(byte & 0x0f)]]
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}

extension JSONWriter {
    /// Writes any JSON value, object keys sorted by their bytes.
    public mutating func value(_ json: JSON) {
        switch json {
        case .null: raw("null")
        case .bool(let flag): raw(flag ? "true" : "false")
        case .int(let number): raw(String(number))
        case .double(let number):
            if !number.isFinite { raw("null") } else if number == number.rounded(), abs(number) < 1e15 { raw(String(Int64(number))) } else { raw(String(number)) }
        case .string(let text): string(text)
        case .array(let values):
            raw("[")
            for (index, element) in values.enumerated() {
                if index > 0 { raw(",") }
                value(element)
            }
            raw("]")
        case .object(let fields):
            raw("{")
            for (index, key) in fields.keys.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }).enumerated() {
                self.key(key, first: index == 0)
                value(fields[key]!)
            }
            raw("}")
        }
    }
}

/// Literals, so answers and requests read as the JSON they are: `["orderId": .string(id), "ok": true]`.
extension JSON: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral,
                ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByNilLiteral {
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int64) { self = .int(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(arrayLiteral elements: JSON...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JSON)...) { self = .object(Dictionary(elements) { $1 }) }
    public init(nilLiteral: ()) { self = .null }

    /// A number from an Int.
    public init(_ value: Int) { self = .int(Int64(value)) }
    /// A string, or null for nil.
    public init(_ value: String?) { self = value.map(JSON.string) ?? .null }

    /// The value as one line of JSON text (keys sorted).
    public var encoded: [UInt8] {
        var writer = JSONWriter()
        writer.value(self)
        return writer.bytes
    }
}

#if canImport(Glibc)
import Glibc
#endif

/// A JSON object's top-level fields as the byte ranges of their values in a buffer (compact JSON
/// with keys without escapes: what this service's own encoders write). Nil for anything else.
public struct RawJSONObject {
    private let buffer: UnsafeBufferPointer<UInt8>
    private var fields: [(key: Range<Int>, value: Range<Int>)] = []
    /// Just past the object's closing brace (a caller that reads a whole document checks that
    /// nothing follows).
    public private(set) var end = 0

    public init?(_ buffer: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) {
        self.buffer = buffer
        var index = range.lowerBound
        let end = range.upperBound
        guard index < end, buffer[index] == UInt8(ascii: "{") else { return nil }
        index += 1
        if index < end, buffer[index] == UInt8(ascii: "}") {
            self.end = index + 1
            return
        }
        while index < end {
            guard buffer[index] == UInt8(ascii: "\"") else { return nil }
            let keyStart = index + 1
            var keyEnd = keyStart
            while keyEnd < end, buffer[keyEnd] != UInt8(ascii: "\"") {
                if buffer[keyEnd] == UInt8(ascii: "\\") { return nil }
                keyEnd += 1
            }
            guard keyEnd + 1 < end, buffer[keyEnd + 1] == UInt8(ascii: ":"),
                  let valueEnd = Self.valueEnd(buffer, from: keyEnd + 2, to: end) else { return nil }
            fields.append((keyStart..<keyEnd, (keyEnd + 2)..<valueEnd))
            guard valueEnd < end else { return nil }
            if buffer[valueEnd] == UInt8(ascii: "}") {
                self.end = valueEnd + 1
                return
            }
            guard buffer[valueEnd] == UInt8(ascii: ",") else { return nil }
            index = valueEnd + 1
        }
        return nil
    }

    public subscript(key: StaticString) -> Range<Int>? {
        let count = key.utf8CodeUnitCount
        for field in fields where field.key.count == count
            && memcmp(buffer.baseAddress! + field.key.lowerBound, key.utf8Start, count) == 0 {
            return field.value
        }
        return nil
    }

    /// The string value of `key` (nil when absent or not a string).
    public func string(_ key: StaticString) -> String? { self[key].flatMap { Self.string(buffer, $0) } }

    /// The whole-number value of `key` (nil when absent or not one).
    public func int(_ key: StaticString) -> Int? { self[key].flatMap { Self.int(buffer, $0) } }

    /// The objects of the array value of `key`, each read by `read`; nil when the value is not
    /// an array of objects or `read` refuses one.
    public func objects<T>(_ key: StaticString, _ read: (RawJSONObject) -> T?) -> [T]? {
        guard let ranges = self[key].flatMap({ Self.elements(buffer, $0) }) else { return nil }
        var values: [T] = []
        values.reserveCapacity(ranges.count)
        for range in ranges {
            guard let object = RawJSONObject(buffer, range), let value = read(object) else { return nil }
            values.append(value)
        }
        return values
    }

    /// The ranges of an array value's elements.
    public static func elements(_ buffer: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> [Range<Int>]? {
        var index = range.lowerBound
        let end = range.upperBound
        guard index < end, buffer[index] == UInt8(ascii: "[") else { return nil }
        index += 1
        var elements: [Range<Int>] = []
        if index < end, buffer[index] == UInt8(ascii: "]") { return elements }
        while index < end {
            guard let elementEnd = valueEnd(buffer, from: index, to: end), elementEnd < end else { return nil }
            elements.append(index..<elementEnd)
            if buffer[elementEnd] == UInt8(ascii: "]") { return elements }
            guard buffer[elementEnd] == UInt8(ascii: ",") else { return nil }
            index = elementEnd + 1
        }
        return nil
    }

    /// Where the value starting at `start` ends (compact JSON: no whitespace between tokens).
    public static func valueEnd(_ buffer: UnsafeBufferPointer<UInt8>, from start: Int, to end: Int) -> Int? {
        var index = start
        var depth = 0
        var inString = false
        while index < end {
            let byte = buffer[index]
            if inString {
                if byte == UInt8(ascii: "\\") {
                    index += 1
                } else if byte == UInt8(ascii: "\"") {
                    inString = false
                    if depth == 0 { return index + 1 }
                }
            } else {
                switch byte {
                case UInt8(ascii: "\""): inString = true
                case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
                case UInt8(ascii: "}"), UInt8(ascii: "]"):
                    if depth == 0 { return index }
                    depth -= 1
                    if depth == 0 { return index + 1 }
                case UInt8(ascii: ","): if depth == 0 { return index }
                default: break
                }
            }
            index += 1
        }
        return depth == 0 && !inString ? index : nil
    }

    /// The string a JSON string value holds (nil for anything else). Without escapes its bytes
    /// are taken as they are; with escapes the JSON parser reads it.
    public static func string(_ buffer: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> String? {
        guard range.count >= 2, buffer[range.lowerBound] == UInt8(ascii: "\""), buffer[range.upperBound - 1] == UInt8(ascii: "\"") else {
            return nil
        }
        let inner = (range.lowerBound + 1)..<(range.upperBound - 1)
        if !buffer[inner].contains(UInt8(ascii: "\\")) { return String(decoding: buffer[inner], as: UTF8.self) }
        return (try? JSON.parse(bytes: Array(buffer[range])))?.string
    }

    /// The whole number a JSON number value holds (nil for anything else).
    public static func int(_ buffer: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> Int? {
        Int(String(decoding: buffer[range], as: UTF8.self))
    }
}

import Foundation
import OrdersDomain

/// Writes a response or a request (a `[String: Any]` of strings, numbers, booleans, null, arrays
/// and objects) as one line of JSON, keys sorted. Hand-written because JSONSerialization (with
/// its bridging to NSDictionary) was a sixth of the service's CPU under load. The output is
/// what JSONSerialization wrote with `.sortedKeys` and `.withoutEscapingSlashes`, except that
/// keys are sorted by their bytes (Foundation ignores case) and whole doubles have no fraction.
enum JSONLineEncoder {
    struct Unencodable: Error {}

    static func encode(_ value: Any) throws -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        try write(value, to: &out)
        return out
    }

    private static func write(_ value: Any, to out: inout [UInt8]) throws {
        // Numbers parsed from a request come as NSNumber (a boolean is one too, of type "c");
        // numbers built here are Swift values. Tell them apart by their dynamic type.
        if type(of: value) is NSNumber.Type, let number = value as? NSNumber {
            switch number.objCType.pointee {
            case 0x63: out += (number.boolValue ? "true" : "false").utf8 // "c"
            case 0x64, 0x66: try writeDouble(number.doubleValue, to: &out) // "d", "f"
            default: out += String(number.int64Value).utf8
            }
            return
        }
        // Exact types first: casting a collection `as? Bool` or `as? Int` would bridge it to an
        // Objective-C object just to find out it is not a number.
        let kind = type(of: value)
        if kind == RawJSON.self {
            out += (value as! RawJSON).bytes
        } else if kind == String.self {
            writeString(value as! String, to: &out)
        } else if kind == Int.self {
            out += String(value as! Int).utf8
        } else if kind == Bool.self {
            out += (value as! Bool ? "true" : "false").utf8
        } else if kind == Int64.self {
            out += String(value as! Int64).utf8
        } else if kind == Double.self {
            try writeDouble(value as! Double, to: &out)
        } else if kind == NSNull.self {
            out += "null".utf8
        } else if let object = value as? [String: Any] {
            out.append(UInt8(ascii: "{"))
            for (index, key) in object.keys.sorted().enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                writeString(key, to: &out)
                out.append(UInt8(ascii: ":"))
                try write(object[key]!, to: &out)
            }
            out.append(UInt8(ascii: "}"))
        } else if let array = value as? [Any] {
            out.append(UInt8(ascii: "["))
            for (index, element) in array.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                try write(element, to: &out)
            }
            out.append(UInt8(ascii: "]"))
        } else if case Optional<Any>.none = value {
            out += "null".utf8
        } else {
            throw Unencodable()
        }
    }

    private static func writeDouble(_ number: Double, to out: inout [UInt8]) throws {
        guard number.isFinite else { throw Unencodable() }
        if number == number.rounded(), abs(number) < 1e15 {
            out += String(Int64(number)).utf8
        } else {
            out += String(number).utf8
        }
    }

    private static func writeString(_ text: String, to out: inout [UInt8]) {
        JSONWriter.appendString(text, to: &out)
    }
}

/// JSON text written as it is, such as a request's id echoed back byte for byte. Only ever made
/// from text the strict parser accepted, so it is always one valid JSON value.
struct RawJSON {
    let bytes: [UInt8]
    init(_ bytes: [UInt8]) { self.bytes = bytes }
    static let null = RawJSON(Array("null".utf8))
}

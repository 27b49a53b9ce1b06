import Foundation
import Orders

/// Typed access to a request object's fields, with the `invalid_request` errors that name the
/// field and what was wrong with it.
struct RequestFields {
    let object: [String: Any]

    func has(_ name: String) -> Bool { object[name] != nil && !(object[name] is NSNull) }

    func string(_ name: String) throws(APIError) -> String {
        guard let value = object[name], !(value is NSNull) else { throw APIError(.invalidRequest, "\(name) is required") }
        guard let text = value as? String else { throw APIError(.invalidRequest, "\(name) must be a string") }
        return text
    }

    func optionalString(_ name: String) throws(APIError) -> String? {
        has(name) ? try string(name) : nil
    }

    func int(_ name: String) throws(APIError) -> Int {
        guard let value = object[name], !(value is NSNull) else { throw APIError(.invalidRequest, "\(name) is required") }
        return try Self.integer(value, name)
    }

    func optionalInt(_ name: String) throws(APIError) -> Int? {
        has(name) ? try int(name) : nil
    }

    func array(_ name: String) throws(APIError) -> [Any] {
        guard let value = object[name], !(value is NSNull) else { throw APIError(.invalidRequest, "\(name) is required") }
        // The exact type first: a plain `as? [Any]` bridges the array to NSArray and back.
        if type(of: value) == [Any].self { return value as! [Any] }
        guard let list = value as? [Any] else { throw APIError(.invalidRequest, "\(name) must be an array") }
        return list
    }

    func timestamp(_ name: String) throws(APIError) -> Timestamp {
        let text = try string(name)
        guard let time = Timestamp(parsing: text) else {
            throw APIError(.invalidRequest, "\(name) must be an ISO-8601 UTC time like 2026-11-22T10:00:00Z, got '\(text.prefix(60))'")
        }
        return time
    }

    /// True for a JSON `true`/`false`. Foundation on Linux also lets the numbers 0 and 1 cast to
    /// Bool, so the check is on the boxed type: only booleans have Objective-C type "c".
    static func isBoolean(_ value: Any) -> Bool {
        // Only a boxed number can be one (and `as? NSNumber` on anything else bridges it first).
        guard type(of: value) is NSNumber.Type, let number = value as? NSNumber else { return false }
        return String(cString: number.objCType) == "c"
    }

    /// An integer: a JSON number without a fraction that fits in 64 bits. Booleans are refused
    /// (Foundation would read `true` as 1).
    static func integer(_ value: Any, _ name: String) throws(APIError) -> Int {
        if isBoolean(value) { throw APIError(.invalidRequest, "\(name) must be an integer, got a boolean") }
        if let int = value as? Int { return int }
        if let double = value as? Double {
            throw APIError(.invalidRequest, "\(name) must be an integer, got \(double)")
        }
        throw APIError(.invalidRequest, "\(name) must be an integer")
    }

    /// Money as a decimal string ("19.98") or a JSON number with at most two decimals.
    static func money(_ value: Any, _ name: String) throws(APIError) -> Money {
        if isBoolean(value) { throw APIError(.invalidRequest, "\(name) must be an amount, got a boolean") }
        let text: String
        if let string = value as? String {
            text = string
        } else if let int = value as? Int {
            text = String(int)
        } else if let double = value as? Double {
            // Swift prints a Double as the shortest decimal that reads back to it, which is the
            // literal the client wrote whenever that literal has at most ~15 significant digits.
            text = "\(double)"
        } else {
            throw APIError(.invalidRequest, "\(name) must be a decimal string like \"19.98\" or a number")
        }
        guard let money = Money(decimal: text.hasSuffix(".0") ? String(text.dropLast(2)) : text) else {
            throw APIError(.validationFailed, "\(name) must be an amount with at most 2 decimals, got \(text.prefix(40))")
        }
        return money
    }
}

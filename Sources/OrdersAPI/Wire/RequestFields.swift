import OrdersDomain
import OrdersEventLog
import OrdersWriteSide
import OrdersReadSide

/// Typed access to a request object's fields, with the `invalid_request` errors that name the
/// field and what was wrong with it. A field set to `null` counts as absent.
struct RequestFields {
    let object: [String: JSON]

    func value(_ name: String) -> JSON? {
        guard let value = object[name], value != .null else { return nil }
        return value
    }

    func has(_ name: String) -> Bool { value(name) != nil }

    /// The line protocol's envelope, beside every request's own fields.
    static let envelope: Set<String> = ["id", "op", "token"]

    /// Refuses a field the request does not take: a misspelt one would otherwise be ignored.
    func only(_ names: Set<String>) throws(APIError) {
        if let unknown = object.keys.sorted().first(where: { !names.contains($0) && !Self.envelope.contains($0) }) {
            throw APIError(.invalidRequest, "unknown field '\(unknown.prefix(40))'; this request takes \(names.sorted().joined(separator: ", "))")
        }
    }

    func required(_ name: String) throws(APIError) -> JSON {
        guard let value = value(name) else { throw APIError(.invalidRequest, "\(name) is required") }
        return value
    }

    func string(_ name: String) throws(APIError) -> String {
        guard case .string(let text) = try required(name) else { throw APIError(.invalidRequest, "\(name) must be a string") }
        return text
    }

    func optionalString(_ name: String) throws(APIError) -> String? {
        has(name) ? try string(name) : nil
    }

    func int(_ name: String) throws(APIError) -> Int {
        try Self.integer(try required(name), name)
    }

    func optionalInt(_ name: String) throws(APIError) -> Int? {
        has(name) ? try int(name) : nil
    }

    func array(_ name: String) throws(APIError) -> [JSON] {
        guard case .array(let list) = try required(name) else { throw APIError(.invalidRequest, "\(name) must be an array") }
        return list
    }

    func money(_ name: String) throws(APIError) -> Money {
        try Self.money(try required(name), name)
    }

    func optionalMoney(_ name: String) throws(APIError) -> Money? {
        has(name) ? try money(name) : nil
    }

    /// An RFC 3339 time (`2026-11-22T10:00:00Z`, `…00.5+01:00`); epoch milliseconds are the
    /// command line's to convert, not a wire form.
    func timestamp(_ name: String) throws(APIError) -> Timestamp {
        let text = try string(name)
        guard Int64(text) == nil, let time = Timestamp(parsing: text) else {
            throw APIError(.invalidRequest, "\(name) must be an ISO-8601 UTC time like 2026-11-22T10:00:00Z, got '\(text.prefix(60))'")
        }
        return time
    }

    /// An integer: a JSON number written without a fraction or exponent that fits in 64 bits.
    /// `2.0` and `2e0` are refused: a field that counts things takes whole numbers as written.
    static func integer(_ value: JSON, _ name: String) throws(APIError) -> Int {
        switch value {
        case .int(let int): return Int(int)
        case .double: throw APIError(.invalidRequest, "\(name) must be an integer (no fraction or exponent)")
        case .bool: throw APIError(.invalidRequest, "\(name) must be an integer, got a boolean")
        default: throw APIError(.invalidRequest, "\(name) must be an integer")
        }
    }

    /// Money as a decimal string ("19.98") or a JSON number with at most two decimals.
    static func money(_ value: JSON, _ name: String) throws(APIError) -> Money {
        let text: String
        switch value {
        case .string(let string): text = string
        case .int(let int): text = String(int)
        // Swift prints a Double as the shortest decimal that reads back to it, which is the
        // literal the client wrote whenever that literal has at most ~15 significant digits.
        case .double(let double): text = "\(double)"
        case .bool: throw APIError(.invalidRequest, "\(name) must be an amount, got a boolean")
        default: throw APIError(.invalidRequest, "\(name) must be a decimal string like \"19.98\" or a number")
        }
        guard let money = Money(decimal: text.hasSuffix(".0") ? String(text.dropLast(2)) : text) else {
            throw APIError(.validationFailed, "\(name) must be an amount with at most 2 decimals, got \(text.prefix(40))")
        }
        return money
    }
}

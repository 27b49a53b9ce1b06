import OrdersDomain
import OrdersEventLog
import OrdersWriteSide
import OrdersReadSide

/// Typed access to a request object's fields, with the `invalid_request` errors that name the
/// field and what was wrong with it. A field set to `null` counts as absent.
public struct RequestFields: Sendable {
    public let object: [String: JSON]

    public init(object: [String: JSON]) { self.object = object }

    public func value(_ name: String) -> JSON? {
        guard let value = object[name], value != .null else { return nil }
        return value
    }

    public func has(_ name: String) -> Bool { value(name) != nil }

    /// The line protocol's envelope, beside every request's own fields.
    public static let envelope: Set<String> = ["id", "op", "token"]

    /// Refuses a field the request does not take: a misspelt one would otherwise be ignored.
    /// The line protocol's envelope (`besides`) is taken beside a request's own fields.
    public func only(_ names: Set<String>, besides envelope: Set<String> = Self.envelope) throws(APIError) {
        if let unknown = object.keys.sorted().first(where: { !names.contains($0) && !envelope.contains($0) }) {
            throw APIError(.invalidRequest, "unknown field '\(unknown.prefix(40))'; this request takes \(names.sorted().joined(separator: ", "))")
        }
    }

    public func required(_ name: String) throws(APIError) -> JSON {
        guard let value = value(name) else { throw APIError(.invalidRequest, "\(name) is required") }
        return value
    }

    public func string(_ name: String) throws(APIError) -> String {
        guard case .string(let text) = try required(name) else { throw APIError(.invalidRequest, "\(name) must be a string") }
        return text
    }

    public func optionalString(_ name: String) throws(APIError) -> String? {
        has(name) ? try string(name) : nil
    }

    public func int(_ name: String) throws(APIError) -> Int {
        try Self.integer(try required(name), name)
    }

    public func optionalInt(_ name: String) throws(APIError) -> Int? {
        has(name) ? try int(name) : nil
    }

    public func array(_ name: String) throws(APIError) -> [JSON] {
        guard case .array(let list) = try required(name) else { throw APIError(.invalidRequest, "\(name) must be an array") }
        return list
    }

    public func money(_ name: String) throws(APIError) -> Money {
        try Self.money(try required(name), name)
    }

    public func optionalMoney(_ name: String) throws(APIError) -> Money? {
        has(name) ? try money(name) : nil
    }

    /// An RFC 3339 time (`2026-11-22T10:00:00Z`, `…00.5+01:00`); epoch milliseconds are the
    /// command line's to convert, not a wire form.
    public func timestamp(_ name: String) throws(APIError) -> Timestamp {
        let text = try string(name)
        guard Int64(text) == nil, let time = Timestamp(parsing: text) else {
            throw APIError(.invalidRequest, "\(name) must be an ISO-8601 UTC time like 2026-11-22T10:00:00Z, got '\(text.prefix(60))'")
        }
        return time
    }

    /// A status by its name, or `code` naming the ones there are.
    public static func status(_ text: String, _ code: APIError.Code) throws(APIError) -> OrderStatus {
        guard let status = OrderStatus(rawValue: text) else {
            throw APIError(code, "status must be one of \(OrderStatus.allCases.map(\.rawValue).joined(separator: ", ")), got '\(text.prefix(40))'")
        }
        return status
    }

    /// Read-your-writes: the request's `minPosition`, if any.
    public func minPosition() throws(APIError) -> [RequestedPosition] {
        guard let text = try optionalString("minPosition") else { return [] }
        return [try RequestedPosition(text, "minPosition")]
    }

    /// An integer: a JSON number whose value is whole and fits in 64 bits, as JSON Schema's
    /// `integer` means it (`2`, and `2.0` or `2e0` alike).
    public static func integer(_ value: JSON, _ name: String) throws(APIError) -> Int {
        switch value {
        case .int(let int): return Int(int)
        case .double(let double):
            guard double == double.rounded(), abs(double) < 9.2e18 else {
                throw APIError(.invalidRequest, "\(name) must be a whole number")
            }
            return Int(double)
        case .bool: throw APIError(.invalidRequest, "\(name) must be an integer, got a boolean")
        default: throw APIError(.invalidRequest, "\(name) must be an integer")
        }
    }

    /// A price as the document's string form spells it, `^([0-9]{1,6}(\.[0-9]{1,2})?|1000000(\.0{1,2})?)$`:
    /// 0 to 1,000,000.00 (`OrderRules.maxUnitPrice`), at most two decimals, no sign.
    public static func isPriceText(_ text: String) -> Bool {
        let parts = text.utf8.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false).map(Array.init)
        guard (1...2).contains(parts.count), let whole = parts.first,
              whole.allSatisfy({ (48...57).contains($0) }), (1...7).contains(whole.count) else { return false }
        let fraction = parts.count == 2 ? parts[1] : []
        guard parts.count == 1 || (1...2).contains(fraction.count), fraction.allSatisfy({ (48...57).contains($0) }) else { return false }
        return whole.count <= 6 || (whole.elementsEqual("1000000".utf8) && fraction.allSatisfy { $0 == 48 })
    }

    /// Money as a decimal string ("19.98", see `isPriceText`) or a JSON number with at most two
    /// decimals.
    public static func money(_ value: JSON, _ name: String) throws(APIError) -> Money {
        let text: String
        switch value {
        case .string(let string):
            guard isPriceText(string) else {
                throw APIError(.validationFailed, "\(name) must be an amount from 0 to 1000000.00 with at most 2 decimals, like \"19.98\", got '\(string.prefix(40))'")
            }
            text = string
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

/// A read-your-writes position as a client wrote it (`minPosition`, `Orders-Min-Position`): a
/// log position, `1795375537767-0`, or one that names its partition, `3/1795375537767-0`. Which
/// form the store takes is checked when it is used (`APIContext.position`).
public struct RequestedPosition: Sendable, Equatable {
    let partition: Int?
    let position: LogPosition
    /// The field or header it came in, for errors.
    let field: String

    init(_ text: String, _ field: String) throws(APIError) {
        var rest = Substring(text)
        var partition: Int?
        if let slash = text.firstIndex(of: "/") {
            // One to four digits, as the document's pattern says; whether the store has that
            // partition is the store's to say (`APIContext.positions`).
            let digits = text[..<slash]
            guard (1...4).contains(digits.count), digits.allSatisfy({ $0.isASCII && $0.isNumber }), let number = Int(digits) else {
                throw APIError(.invalidRequest, "\(field) must be a log position like 1795375537767-0 or 3/1795375537767-0, got '\(text.prefix(40))'")
            }
            partition = number
            rest = text[text.index(after: slash)...]
        }
        guard let position = LogPosition(requested: String(rest)) else {
            throw APIError(.invalidRequest, "\(field) must be a log position like 1795375537767-0 or 3/1795375537767-0, got '\(text.prefix(40))'")
        }
        self.partition = partition
        self.position = position
        self.field = field
    }
}

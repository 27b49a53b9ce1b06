import OrdersDomain
import OrdersEventLog

/// One HTTP request routed to an operation: its path parameters, its query (only the names the
/// document gives the operation reach it) and its body, read with the errors a client is owed.
public struct HTTPCall: Sendable {
    public let request: HTTPRequest
    let parameters: [String: String]
    public let query: [String: String]

    /// A path parameter of the route (`{orderId}`): always there once routed.
    public func parameter(_ name: String) -> String { parameters[name] ?? "" }

    public func header(_ name: String) -> String? { request.header(name) }

    /// The request's JSON object (an empty body is an empty object), taking only `fields`. A
    /// body declared as JSON, or not declared, or declared as curl's default for `-d` (a form),
    /// is read as JSON; another declared type is refused (415). The line protocol's envelope
    /// (`id`, `op`, `token`) is no body's field over HTTP.
    public func body(taking fields: Set<String>) throws(APIError) -> RequestFields {
        let body = request.body
        guard !body.isEmpty else { return RequestFields(object: [:]) }
        if let type = header("content-type")?.lowercased(), !type.contains("json"),
           !type.hasPrefix("application/x-www-form-urlencoded") {
            throw APIError(.unsupportedMediaType, "the body must be JSON (Content-Type: application/json)")
        }
        let parsed: JSON
        do { parsed = try JSON.parse(bytes: body) } catch {
            throw APIError(.invalidJSON, "the body is not valid JSON: \(error)")
        }
        guard case .object(let object) = parsed else { throw APIError(.invalidRequest, "the body must be a JSON object") }
        let request = RequestFields(object: object)
        try request.only(fields, besides: [])
        return request
    }

    /// Read-your-writes: `?minPosition=` and the `Orders-Min-Position` header; each one given
    /// must be a position, and the read waits for both (the later one where they name one
    /// partition).
    public func minPosition() throws(APIError) -> [RequestedPosition] {
        var positions: [RequestedPosition] = []
        for (name, text) in [("minPosition", query["minPosition"]), ("Orders-Min-Position", header("orders-min-position"))] {
            if let text { positions.append(try RequestedPosition(text, name)) }
        }
        return positions
    }

    /// A whole number from the query, `value` when absent.
    public func integer(_ name: String, default value: Int, in range: ClosedRange<Int>) throws(APIError) -> Int {
        guard let text = query[name] else { return value }
        guard let number = Int(text), range.contains(number) else {
            throw APIError(.invalidRequest, "\(name) must be a whole number from \(range.lowerBound) to \(range.upperBound)")
        }
        return number
    }

    /// A UTC day (`2026-11-23`: its start, or its end with `endOfDay`) or an RFC 3339 time, as
    /// the document says (`format: date` or `date-time`).
    public func date(_ name: String, endOfDay: Bool) throws(APIError) -> Timestamp? {
        guard let text = query[name] else { return nil }
        if text.utf8.count == 10, let start = Timestamp(parsing: text + "T00:00:00.000Z") {
            return endOfDay ? Timestamp(milliseconds: start.milliseconds + 86_400_000 - 1) : start
        }
        guard Array(text.utf8.prefix(5)).last == UInt8(ascii: "-"), let time = Timestamp(parsing: text) else {
            throw APIError(.invalidRequest, "\(name) must be a UTC date (2026-11-23) or time (2026-11-23T10:00:00Z)")
        }
        return time
    }

    /// An amount like `12.50` from the query.
    public func amount(_ name: String) throws(APIError) -> Money? {
        guard let text = query[name] else { return nil }
        guard let money = Money(decimal: text) else { throw APIError(.invalidRequest, "\(name) must be an amount like 12.50") }
        return money
    }

    /// `If-Match: "3"` (or `W/"3"`, or `3`): the order must be at version 3. `*` or none: any
    /// version. Exactly the document's pattern, `^(\*|(W/)?"[0-9]{1,18}"|[0-9]{1,18})$`.
    public func expectedVersion() throws(APIError) -> Int? {
        guard let value = header("if-match")?.trimmingSpaces, value != "*" else { return nil }
        var tag = value.utf8[...]
        let weak = tag.starts(with: "W/".utf8)
        if weak { tag = tag.dropFirst(2) }
        let quoted = tag.count >= 2 && tag.first == UInt8(ascii: "\"") && tag.last == UInt8(ascii: "\"")
        if quoted { tag = tag.dropFirst().dropLast() }
        guard weak == false || quoted, (1...18).contains(tag.count), tag.allSatisfy({ (48...57).contains($0) }),
              let version = Int(String(decoding: tag, as: UTF8.self)) else {
            throw APIError(.invalidRequest, "If-Match must be an order's ETag, like \"3\"")
        }
        return version
    }
}

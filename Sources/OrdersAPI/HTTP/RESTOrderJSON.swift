#if canImport(Glibc)
import Glibc
#endif
import OrdersDomain
import OrdersReadSide

/// An order as the REST API shows it (the original design's shape): `orderId, customerName,
/// customerEmail, items [{productId, productName, quantity, price, subtotal}], totalAmount,
/// status, orderDate, statusHistory [{status, changedAt}]`, plus `updatedAt`, `version` and
/// `cancelReason` when there is one. Money as decimal strings, times ISO-8601 UTC; keys sorted.
///
/// Written from the order's stored record (`OrderProjection.encode`, the line protocol's form)
/// by renaming its keys and copying each value's bytes as they are: one encoder of orders, and
/// no decoding of strings, money or times on getOrder, the hot read.
enum RESTOrderJSON {
    /// `{"data":<order>}` from a stored record, and the order's version; nil when the record is
    /// not in the form `OrderProjection.encode` writes (the caller then decodes it).
    static func one(record doc: [UInt8]) -> (body: [UInt8], version: Int)? {
        var out: [UInt8] = []
        out.reserveCapacity(doc.count + 64)
        out.append(contentsOf: #"{"data":"#.utf8)
        guard let version = append(record: doc, to: &out) else { return nil }
        out.append(UInt8(ascii: "}"))
        return (out, version)
    }

    /// `{"data":<order>}` of an order already decoded (a record of another form, an order as of
    /// a time).
    static func one(_ view: OrderView) throws -> (body: [UInt8], version: Int) {
        guard let answer = one(record: OrderProjection.encode(view)) else { throw unconvertible(view) }
        return answer
    }

    /// `{"data":[<order>…]<, "pagination":…>}`; `pagination` is written as given (JSON).
    static func list(_ views: [OrderView], pagination: String? = nil) throws -> [UInt8] {
        var out = Array(#"{"data":["#.utf8)
        for (index, view) in views.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            guard append(record: OrderProjection.encode(view), to: &out) != nil else { throw unconvertible(view) }
        }
        out.append(UInt8(ascii: "]"))
        if let pagination {
            out.append(contentsOf: #","pagination":"#.utf8)
            out.append(contentsOf: pagination.utf8)
        }
        out.append(UInt8(ascii: "}"))
        return out
    }

    private static func unconvertible(_ view: OrderView) -> ReadSideError {
        ReadSideError(.corrupt, "order \(view.orderId)'s record could not be written in the REST form")
    }

    /// Appends the REST form of a stored record; returns its version, or nil (nothing appended)
    /// when the record is not in the expected form.
    static func append(record doc: [UInt8], to target: inout [UInt8]) -> Int? {
        doc.withUnsafeBufferPointer { buffer -> Int? in
            guard let top = RawJSONObject(buffer, 0..<buffer.count) else { return nil }
            var out: [UInt8] = []
            out.reserveCapacity(doc.count + 32)
            out.append(UInt8(ascii: "{"))
            var first = true
            func field(_ name: StaticString, _ value: Range<Int>?) -> Bool {
                guard let value else { return false }
                if !first { out.append(UInt8(ascii: ",")) }
                first = false
                out.append(UInt8(ascii: "\""))
                out.append(contentsOf: UnsafeBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount))
                out.append(contentsOf: #"":"#.utf8)
                out.append(contentsOf: buffer[value])
                return true
            }
            /// Each element of an array of objects, its fields renamed: (REST name, record name).
            func objects(_ name: StaticString, _ value: Range<Int>?, _ renamed: [(StaticString, StaticString)]) -> Bool {
                guard let value, let elements = RawJSONObject.elements(buffer, value) else { return false }
                out.append(UInt8(ascii: ","))
                out.append(UInt8(ascii: "\""))
                out.append(contentsOf: UnsafeBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount))
                out.append(contentsOf: #"":["#.utf8)
                for (index, element) in elements.enumerated() {
                    guard let object = RawJSONObject(buffer, element) else { return false }
                    out.append(contentsOf: index > 0 ? #",{"#.utf8 : "{".utf8)
                    first = true
                    for (rest, stored) in renamed { guard field(rest, object[stored]) else { return false } }
                    out.append(UInt8(ascii: "}"))
                }
                out.append(UInt8(ascii: "]"))
                first = false
                return true
            }
            if let reason = top["cancelReason"] { _ = field("cancelReason", reason) }
            guard field("customerEmail", top["customerEmail"]), field("customerName", top["customerName"]),
                  objects("items", top["items"], [("price", "unitPrice"), ("productId", "sku"), ("productName", "name"),
                                                  ("quantity", "quantity"), ("subtotal", "lineTotal")]),
                  field("orderDate", top["createdAt"]), field("orderId", top["orderId"]), field("status", top["status"]),
                  objects("statusHistory", top["statusHistory"], [("changedAt", "at"), ("status", "status")]),
                  field("totalAmount", top["total"]), field("updatedAt", top["updatedAt"]), let versionRange = top["version"],
                  let version = Int(String(decoding: buffer[versionRange], as: UTF8.self)), field("version", versionRange) else {
                return nil
            }
            out.append(UInt8(ascii: "}"))
            target.append(contentsOf: out)
            return version
        }
    }
}

/// A JSON object's top-level fields as the byte ranges of their values in a buffer (compact JSON
/// with keys without escapes: what this service's own encoders write). Nil for anything else.
struct RawJSONObject {
    private let buffer: UnsafeBufferPointer<UInt8>
    private var fields: [(key: Range<Int>, value: Range<Int>)] = []

    init?(_ buffer: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) {
        self.buffer = buffer
        var index = range.lowerBound
        let end = range.upperBound
        guard index < end, buffer[index] == UInt8(ascii: "{") else { return nil }
        index += 1
        if index < end, buffer[index] == UInt8(ascii: "}") { return }
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
            if buffer[valueEnd] == UInt8(ascii: "}") { return }
            guard buffer[valueEnd] == UInt8(ascii: ",") else { return nil }
            index = valueEnd + 1
        }
        return nil
    }

    subscript(key: StaticString) -> Range<Int>? {
        let count = key.utf8CodeUnitCount
        for field in fields where field.key.count == count
            && memcmp(buffer.baseAddress! + field.key.lowerBound, key.utf8Start, count) == 0 {
            return field.value
        }
        return nil
    }

    /// The ranges of an array value's elements.
    static func elements(_ buffer: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> [Range<Int>]? {
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
    static func valueEnd(_ buffer: UnsafeBufferPointer<UInt8>, from start: Int, to end: Int) -> Int? {
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
}

#if canImport(Glibc)
import Glibc
#endif
import OrdersDomain
import OrdersReadSide

/// An order as the REST API shows it (the original design's shape): `orderId, customerName,
/// customerEmail, items [{productId, productName, quantity, price, subtotal}], totalAmount,
/// status, orderDate, statusHistory [{status, changedAt}]`, plus `updatedAt`, `version` and
/// `cancelReason` when there is one. Money as decimal strings, times ISO-8601 UTC; keys sorted.
enum RESTOrderJSON {
    static func encode(_ view: OrderView, into json: inout JSONWriter) {
        json.raw("{")
        var first = true
        if let reason = view.cancelReason {
            json.key("cancelReason", first: true)
            json.string(reason)
            first = false
        }
        json.key("customerEmail", first: first)
        json.string(view.customerEmail)
        json.key("customerName")
        json.string(view.customerName)
        json.key("items")
        json.raw("[")
        for (index, item) in view.items.enumerated() {
            if index > 0 { json.raw(",") }
            json.raw("{")
            json.key("price", first: true)
            json.string(item.unitPrice.description)
            json.key("productId")
            json.string(item.sku)
            json.key("productName")
            json.string(item.name)
            json.key("quantity")
            json.raw(String(item.quantity))
            json.key("subtotal")
            json.string(item.lineTotal.description)
            json.raw("}")
        }
        json.raw("]")
        json.key("orderDate")
        json.string(view.createdAt.description)
        json.key("orderId")
        json.string(view.orderId)
        json.key("status")
        json.string(view.status.rawValue)
        json.key("statusHistory")
        json.raw("[")
        for (index, change) in view.statusHistory.enumerated() {
            if index > 0 { json.raw(",") }
            json.raw("{")
            json.key("changedAt", first: true)
            json.string(change.at.description)
            json.key("status")
            json.string(change.status.rawValue)
            json.raw("}")
        }
        json.raw("]")
        json.key("totalAmount")
        json.string(view.total.description)
        json.key("updatedAt")
        json.string(view.updatedAt.description)
        json.key("version")
        json.raw(String(view.version))
        json.raw("}")
    }

    /// `{"data":<order>}`.
    static func one(_ view: OrderView) -> [UInt8] {
        var json = JSONWriter()
        json.raw(#"{"data":"#)
        encode(view, into: &json)
        json.raw("}")
        return json.bytes
    }

    /// `{"data":[<order>…]<, "pagination":…>}`; `pagination` is written as given (JSON).
    static func list(_ views: [OrderView], pagination: String? = nil) -> [UInt8] {
        var json = JSONWriter()
        json.raw(#"{"data":["#)
        for (index, view) in views.enumerated() {
            if index > 0 { json.raw(",") }
            encode(view, into: &json)
        }
        json.raw("]")
        if let pagination {
            json.raw(#","pagination":"#)
            json.raw(pagination)
        }
        json.raw("}")
        return json.bytes
    }
}

extension RESTOrderJSON {
    /// `{"data":<order>}` straight from a stored record (`OrderProjection.encode`'s bytes), by
    /// renaming keys and copying each value's bytes as they are: no decoding of strings, money or
    /// times (getOrder is the hot read). Nil when the record is not in the form that encoder
    /// writes; the caller then decodes it.
    static func one(record doc: [UInt8]) -> (body: [UInt8], version: Int)? {
        doc.withUnsafeBufferPointer { buffer -> (body: [UInt8], version: Int)? in
            guard let top = RawJSONObject(buffer, 0..<buffer.count) else { return nil }
            var out: [UInt8] = []
            out.reserveCapacity(doc.count + 64)
            out.append(contentsOf: #"{"data":{"#.utf8)
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
            func raw(_ text: StaticString) { out.append(contentsOf: UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount)) }
            if let reason = top["cancelReason"] { _ = field("cancelReason", reason) }
            guard field("customerEmail", top["customerEmail"]), field("customerName", top["customerName"]),
                  let items = top["items"].flatMap({ RawJSONObject.elements(buffer, $0) }) else { return nil }
            raw(#","items":["#)
            for (index, element) in items.enumerated() {
                guard let item = RawJSONObject(buffer, element), let price = item["unitPrice"], let sku = item["sku"],
                      let name = item["name"], let quantity = item["quantity"], let subtotal = item["lineTotal"] else { return nil }
                if index > 0 { out.append(UInt8(ascii: ",")) }
                raw(#"{"price":"#)
                out.append(contentsOf: buffer[price])
                raw(#","productId":"#)
                out.append(contentsOf: buffer[sku])
                raw(#","productName":"#)
                out.append(contentsOf: buffer[name])
                raw(#","quantity":"#)
                out.append(contentsOf: buffer[quantity])
                raw(#","subtotal":"#)
                out.append(contentsOf: buffer[subtotal])
                out.append(UInt8(ascii: "}"))
            }
            out.append(UInt8(ascii: "]"))
            guard field("orderDate", top["createdAt"]), field("orderId", top["orderId"]), field("status", top["status"]),
                  let history = top["statusHistory"].flatMap({ RawJSONObject.elements(buffer, $0) }) else { return nil }
            raw(#","statusHistory":["#)
            for (index, element) in history.enumerated() {
                guard let change = RawJSONObject(buffer, element), let at = change["at"], let status = change["status"] else { return nil }
                if index > 0 { out.append(UInt8(ascii: ",")) }
                raw(#"{"changedAt":"#)
                out.append(contentsOf: buffer[at])
                raw(#","status":"#)
                out.append(contentsOf: buffer[status])
                out.append(UInt8(ascii: "}"))
            }
            out.append(UInt8(ascii: "]"))
            guard field("totalAmount", top["total"]), field("updatedAt", top["updatedAt"]), let versionRange = top["version"],
                  let version = Int(String(decoding: buffer[versionRange], as: UTF8.self)), field("version", versionRange) else { return nil }
            raw("}}")
            return (out, version)
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

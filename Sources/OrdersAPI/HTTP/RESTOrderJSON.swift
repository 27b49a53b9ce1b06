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


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

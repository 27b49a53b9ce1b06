/// Turns domain events into stored `(type, data)` pairs and back. `data` is JSON with sorted keys
/// (as JSONEncoder's `.sortedKeys` wrote it), so the same event always stores the same bytes.
/// Coded by hand with `JSON`/`JSONWriter`: this runs for every event written, projected and
/// replayed, and Foundation's coders were most of that time.
public enum OrderEventCoding {
    /// The schema version of every event type's `data` as this build writes it.
    public static let schemaVersion = 1

    public struct UnknownEvent: Error, CustomStringConvertible {
        public let type: String
        public let reason: String
        public var description: String { "cannot read event \(type): \(reason)" }
    }

    public static func encode(_ event: OrderEvent) -> String {
        var json = JSONWriter()
        json.raw("{")
        switch event {
        case .created(let created):
            json.key("customerEmail", first: true)
            json.string(created.customerEmail)
            json.key("customerName")
            json.string(created.customerName)
            json.key("items")
            json.items(created.items)
        case .statusChanged(let change):
            json.key("from", first: true)
            json.string(change.from.rawValue)
            json.key("to")
            json.string(change.to.rawValue)
        case .cancelled(let cancelled):
            json.key("from", first: true)
            json.string(cancelled.from.rawValue)
            if let reason = cancelled.reason {
                json.key("reason")
                json.string(reason)
            }
        case .deleted:
            break
        }
        json.raw("}")
        return json.text
    }

    /// Reads an event's `data`: field by field from its bytes when it is in the form `encode`
    /// writes (every projector decodes every event it folds), through the JSON parser otherwise.
    public static func decode(type: String, data: String) throws -> OrderEvent {
        if let event = decodeWritten(type: type, data: data) { return event }
        return try decodeParsed(type: type, data: data)
    }

    /// The fast path of `decode`: nil when `data` is not a whole object in the written form (or
    /// not one of the known types), for the parser to judge.
    static func decodeWritten(type: String, data: String) -> OrderEvent? {
        var data = data
        return data.withUTF8 { buffer -> OrderEvent? in
            guard let object = RawJSONObject(buffer, 0..<buffer.count), object.end == buffer.count else { return nil }
            func status(_ key: StaticString) -> OrderStatus? { object.string(key).flatMap(OrderStatus.init(rawValue:)) }
            switch type {
            case OrderCreated.type:
                guard let email = object.string("customerEmail"), let name = object.string("customerName"),
                      let items = object.objects("items", { item -> OrderItem? in
                          guard let sku = item.string("sku"), let itemName = item.string("name"), let quantity = item.int("quantity"),
                                let price = item.string("unitPrice").flatMap({ Money(decimal: $0) }) else { return nil }
                          return OrderItem(sku: sku, name: itemName, quantity: quantity, unitPrice: price)
                      }) else { return nil }
                return .created(OrderCreated(customerName: name, customerEmail: email, items: items))
            case OrderStatusChanged.type:
                guard let from = status("from"), let to = status("to") else { return nil }
                return .statusChanged(OrderStatusChanged(from: from, to: to))
            case OrderCancelled.type:
                guard let from = status("from") else { return nil }
                let reason = object.string("reason")
                guard reason != nil || object["reason"] == nil else { return nil } // a reason must read as a string
                return .cancelled(OrderCancelled(from: from, reason: reason))
            case OrderDeleted.type:
                return .deleted(OrderDeleted())
            default:
                return nil
            }
        }
    }

    /// The general path of `decode`, through the JSON parser.
    static func decodeParsed(type: String, data: String) throws -> OrderEvent {
        let json: JSON
        do { json = try JSON.parse(data) } catch { throw UnknownEvent(type: type, reason: "malformed data: \(error)") }
        func missing(_ field: String) -> UnknownEvent { UnknownEvent(type: type, reason: "malformed data: no valid \(field)") }
        func status(_ field: String) throws -> OrderStatus {
            guard let text = json[field]?.string, let status = OrderStatus(rawValue: text) else { throw missing(field) }
            return status
        }
        switch type {
        case OrderCreated.type:
            guard let email = json["customerEmail"]?.string else { throw missing("customerEmail") }
            guard let name = json["customerName"]?.string else { throw missing("customerName") }
            guard let list = json["items"]?.array else { throw missing("items") }
            let items = try list.map { item -> OrderItem in
                guard let item = OrderItem(json: item) else { throw missing("item") }
                return item
            }
            return .created(OrderCreated(customerName: name, customerEmail: email, items: items))
        case OrderStatusChanged.type:
            return .statusChanged(OrderStatusChanged(from: try status("from"), to: try status("to")))
        case OrderCancelled.type:
            return .cancelled(OrderCancelled(from: try status("from"), reason: json["reason"]?.string))
        case OrderDeleted.type:
            guard case .object = json else { throw missing("object") }
            return .deleted(OrderDeleted())
        default:
            throw UnknownEvent(type: type, reason: "unknown event type")
        }
    }
}

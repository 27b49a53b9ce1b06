import RedisClient
import OrdersDomain
import OrdersEventLog

/// The order read model: one record per order (its `OrderView` as JSON) and the indexes that
/// answer the list queries and search without scanning. Deleted orders leave every index; their
/// record keeps only its version (a tombstone), so a late redelivery cannot bring them back.
public struct OrderProjection: Projection {
    public typealias State = OrderView
    public static let name = "order"
    /// 2: the search index holds words only, no whole texts.
    /// 3: words and the customer index are Unicode-folded (NFKC, full case folding: `TextFolding`).
    public static let schemaVersion = 3

    public init() {}

    public func guardLocation(of orderId: String, in keys: ViewKeys) -> (key: String, field: String) {
        (keys.record(orderId), "version")
    }

    public func readCommand(for orderId: String, in keys: ViewKeys) -> RedisCommand {
        RedisCommand("HMGET", keys.record(orderId), "version", "doc")
    }

    public func parse(_ reply: RedisValue) throws -> (version: Int, state: OrderView?) {
        guard let fields = reply.array, fields.count == 2 else {
            throw ReadSideError.corrupt("unexpected record reply \(reply)")
        }
        let version = fields[0].int ?? 0
        guard let doc = fields[1].bytes else { return (version, nil) }
        return (version, try Self.decode(doc))
    }

    /// Reads a record's `doc`. Hand-coded (see `JSON`): the projector reads one per order per batch.
    static func decode(_ doc: [UInt8]) throws -> OrderView {
        let json = try JSON.parse(String(decoding: doc, as: UTF8.self))
        func fail(_ field: String) -> ReadSideError { .corrupt("record doc lacks a valid \(field)") }
        func time(_ value: JSON?, _ field: String) throws -> Timestamp {
            guard let text = value?.string, let time = Timestamp(parsing: text) else { throw fail(field) }
            return time
        }
        guard let orderId = json["orderId"]?.string else { throw fail("orderId") }
        guard let name = json["customerName"]?.string, let email = json["customerEmail"]?.string else { throw fail("customer") }
        guard let status = json["status"]?.string.flatMap(OrderStatus.init(rawValue:)) else { throw fail("status") }
        guard let version = json["version"]?.int else { throw fail("version") }
        let items = try (json["items"]?.array ?? []).map { item -> OrderItem in
            guard let item = OrderItem(json: item) else { throw fail("item") }
            return item
        }
        let history = try (json["statusHistory"]?.array ?? []).map { entry -> OrderView.StatusChange in
            guard let entryStatus = entry["status"]?.string.flatMap(OrderStatus.init(rawValue:)) else { throw fail("statusHistory") }
            return OrderView.StatusChange(status: entryStatus, at: try time(entry["at"], "statusHistory"))
        }
        return OrderView(orderId: orderId, customerName: name, customerEmail: email, items: items, status: status,
                         statusHistory: history, cancelReason: json["cancelReason"]?.string,
                         createdAt: try time(json["createdAt"], "createdAt"), updatedAt: try time(json["updatedAt"], "updatedAt"),
                         version: Int(version))
    }

    /// The record's `doc`: the view as JSON with sorted keys (what JSONEncoder wrote before).
    static func encode(_ view: OrderView) -> String {
        var json = JSONWriter()
        json.raw("{")
        var first = true
        if let reason = view.cancelReason {
            json.key("cancelReason", first: true)
            json.string(reason)
            first = false
        }
        json.key("createdAt", first: first)
        json.string(view.createdAt.description)
        json.key("customerEmail")
        json.string(view.customerEmail)
        json.key("customerName")
        json.string(view.customerName)
        json.key("items")
        json.items(view.items)
        json.key("orderId")
        json.string(view.orderId)
        json.key("status")
        json.string(view.status.rawValue)
        json.key("statusHistory")
        json.raw("[")
        for (index, change) in view.statusHistory.enumerated() {
            if index > 0 { json.raw(",") }
            json.raw("{")
            json.key("at", first: true)
            json.string(change.at.description)
            json.key("status")
            json.string(change.status.rawValue)
            json.raw("}")
        }
        json.raw("]")
        json.key("updatedAt")
        json.string(view.updatedAt.description)
        json.key("version")
        json.raw(String(view.version))
        json.raw("}")
        return json.text
    }

    public func state(from aggregate: OrderAggregate) -> OrderView? { OrderView(aggregate) }

    public func apply(_ event: OrderEvent, of recorded: RecordedEvent, to state: OrderView?) -> OrderView? {
        OrderView.applying(event, of: recorded, to: state)
    }

    public func changes(for orderId: String, from old: OrderView?, to new: OrderView?, version: Int,
                        in keys: ViewKeys) -> (ProjectionChanges, guardValue: String) {
        var changes = ProjectionChanges(guardKey: keys.record(orderId))
        if let new {
            changes.add("HSET", keys.record(orderId), ["doc", Self.encode(new)])
        } else if old != nil {
            changes.add("HDEL", keys.record(orderId), ["doc"])
        }
        // After creation only the status (and its history) changes: then only the status index
        // moves. Anything else (creation, deletion) diffs every index entry.
        if let old, let new, old.items == new.items, old.customerEmail == new.customerEmail,
           old.customerName == new.customerName, old.createdAt == new.createdAt {
            if old.status != new.status {
                changes.add("ZREM", keys.byStatus(old.status), [orderId])
                changes.add("ZADD", keys.byStatus(new.status), [String(new.createdAt.milliseconds), orderId])
            }
            return (changes, String(version))
        }
        switch (old, new) {
        case (nil, let new?): // created (or rebuilt): every entry is new, nothing to diff
            for entry in indexEntries(new, keys) { changes.add("ZADD", entry.key, [entry.score, entry.member]) }
        case (let old?, nil): // deleted: every entry goes
            for entry in indexEntries(old, keys) { changes.add("ZREM", entry.key, [entry.member]) }
        case (let old?, let new?): // anything else: diff, so only changed entries are touched
            let before = Set(indexEntries(old, keys))
            let after = Set(indexEntries(new, keys))
            for entry in before.subtracting(after) where !after.contains(where: { $0.key == entry.key && $0.member == entry.member }) {
                changes.add("ZREM", entry.key, [entry.member])
            }
            for entry in after.subtracting(before) {
                changes.add("ZADD", entry.key, [entry.score, entry.member])
            }
        case (nil, nil):
            break
        }
        return (changes, String(version))
    }

    struct IndexEntry: Hashable {
        let key: String
        let score: String
        let member: String
    }

    func indexEntries(_ view: OrderView, _ keys: ViewKeys) -> [IndexEntry] {
        let created = String(view.createdAt.milliseconds)
        var entries = [
            IndexEntry(key: keys.byStatus(view.status), score: created, member: view.orderId),
            IndexEntry(key: keys.byCustomer(view.customerEmail), score: created, member: view.orderId),
            IndexEntry(key: keys.byCreated, score: created, member: view.orderId),
            IndexEntry(key: keys.byTotal, score: String(view.total.cents), member: view.orderId),
        ]
        for term in view.searchTerms {
            entries.append(IndexEntry(key: keys.terms, score: "0", member: term + "\u{0}" + view.orderId))
        }
        return entries
    }
}

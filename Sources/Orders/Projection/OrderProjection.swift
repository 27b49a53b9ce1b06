import Foundation
import RedisClient

/// The order read model: one record per order (its `OrderView` as JSON) and the indexes that
/// answer the list queries and search without scanning. Deleted orders leave every index; their
/// record keeps only its version (a tombstone), so a late redelivery cannot bring them back.
public struct OrderProjection: Projection {
    public typealias State = OrderView
    public static let name = "order"
    public static let schemaVersion = 1

    public init() {}

    public func guardLocation(of orderId: String, in keys: ViewKeys) -> (key: String, field: String) {
        (keys.record(orderId), "version")
    }

    public func readCommand(for orderId: String, in keys: ViewKeys) -> RedisCommand {
        RedisCommand("HMGET", keys.record(orderId), "version", "doc")
    }

    public func parse(_ reply: RedisValue) throws -> (version: Int, state: OrderView?) {
        guard let fields = reply.array, fields.count == 2 else {
            throw ProjectionDecodingError(description: "unexpected record reply \(reply)")
        }
        let version = fields[0].int ?? 0
        guard let doc = fields[1].bytes else { return (version, nil) }
        return (version, try Self.decode(doc))
    }

    static func decode(_ doc: [UInt8]) throws -> OrderView {
        try JSONDecoder().decode(OrderView.self, from: Data(doc))
    }

    static func encode(_ view: OrderView) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try! encoder.encode(view), as: UTF8.self)
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
        let before = Set(old.map { indexEntries($0, keys) } ?? [])
        let after = Set(new.map { indexEntries($0, keys) } ?? [])
        for entry in before.subtracting(after) where !after.contains(where: { $0.key == entry.key && $0.member == entry.member }) {
            changes.add("ZREM", entry.key, [entry.member])
        }
        for entry in after.subtracting(before) {
            changes.add("ZADD", entry.key, [entry.score, entry.member])
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

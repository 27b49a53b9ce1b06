import RedisClient
import OrdersDomain
import OrdersEventLog

/// The order read model: one record per order (its `OrderView` as JSON) and the indexes that
/// answer the list queries and search without scanning. Deleted orders leave every index and
/// their record is deleted (the checkpoint, not a tombstone, keeps a redelivery from bringing
/// them back).
public struct OrderProjection: RepairableProjection {
    public typealias State = OrderState
    public static let name = "order"
    /// 2: the search index holds words only, no whole texts.
    /// 3: words and the customer index are Unicode-folded (NFKC, full case folding: `TextFolding`).
    /// 4: the record's doc is the order exactly as `getOrder` answers it (handed to clients
    ///    without decoding); the search index is one set of orders per word, under a sorted set
    ///    of the distinct words for prefix lookup (the one big `terms` sorted set cost Redis
    ///    ~6 µs a member to insert into).
    /// 5: the order id's words are entries `<word>\0<orderId>` of one sorted set (`id-words`)
    ///    instead of five sets of one order each (~450 B less per order).
    /// 6: batches with a checkpoint: the record holds only `doc` (no guard version), a deleted
    ///    order's record is deleted.
    /// 7: id words in small buckets by their first three characters (`id:<abc>`, listed in
    ///    `id-buckets`) instead of one sorted set of every id word (inserts into it cost Redis
    ///    ~2.7 µs each at 400,000 entries, ~20 µs per created order).
    /// 8: a word's set of orders stops at `commonWordBound` orders: past it the set is deleted
    ///    and the word joins `common-words` (search checks common words on its candidates'
    ///    own terms, as it did for words past its index limit); deleted orders stay in the word
    ///    sets, so they only grow and the common words are a function of the log.
    public static let schemaVersion = 8

    /// Past this many orders a word's set is dropped and the word is common (the query side's
    /// `searchIndexLimit` is the same 2,000: such a word was never read from its set anyway).
    public let commonWordBound: Int

    public init(commonWordBound: Int = 2_000) {
        self.commonWordBound = commonWordBound
    }

    public func readCommand(for orderId: String, in keys: ViewKeys) -> RedisCommand {
        RedisCommand("HGET", keys.record(orderId), "doc")
    }

    /// A record read back: the visible order (a deleted order has no record to read: nil).
    public func parse(_ reply: RedisValue) throws -> OrderState? {
        if case .error(let message) = reply { throw ReadSideError.corrupt("record: \(message)") }
        guard let doc = reply.bytes else { return nil }
        return .visible(try Self.decode(doc))
    }

    /// Reads a record's `doc`. The projector reads one per order per batch and lists read one per
    /// order shown, so the form `encode` writes is read field by field from its bytes
    /// (`RawJSONObject`); any other form goes through the JSON parser.
    public static func decode(_ doc: [UInt8]) throws -> OrderView {
        if let view = decodeWritten(doc) { return view }
        return try decodeParsed(doc)
    }

    /// The fast path of `decode`: nil when the doc is not in the form `encode` writes.
    static func decodeWritten(_ doc: [UInt8]) -> OrderView? {
        doc.withUnsafeBufferPointer { buffer -> OrderView? in
            guard let top = RawJSONObject(buffer, 0..<buffer.count) else { return nil }
            func time(_ object: RawJSONObject, _ key: StaticString) -> Timestamp? { object.string(key).flatMap(Timestamp.init(parsing:)) }
            guard let orderId = top.string("orderId"), let name = top.string("customerName"), let email = top.string("customerEmail"),
                  let status = top.string("status").flatMap(OrderStatus.init(rawValue:)), let version = top.int("version"),
                  let createdAt = time(top, "createdAt"), let updatedAt = time(top, "updatedAt"),
                  let items = top.objects("items", { item -> OrderItem? in
                      guard let sku = item.string("sku"), let itemName = item.string("name"), let quantity = item.int("quantity"),
                            let price = item.string("unitPrice").flatMap({ Money(decimal: $0) }) else { return nil }
                      return OrderItem(sku: sku, name: itemName, quantity: quantity, unitPrice: price)
                  }),
                  let history = top.objects("statusHistory", { change -> OrderView.StatusChange? in
                      guard let at = time(change, "at"), let changed = change.string("status").flatMap(OrderStatus.init(rawValue:)) else {
                          return nil
                      }
                      return OrderView.StatusChange(status: changed, at: at)
                  }) else { return nil }
            // A reason that is there must read as a string.
            let reason = top.string("cancelReason")
            guard reason != nil || top["cancelReason"] == nil else { return nil }
            return OrderView(orderId: orderId, customerName: name, customerEmail: email, items: items, status: status,
                             statusHistory: history, cancelReason: reason, createdAt: createdAt, updatedAt: updatedAt, version: version)
        }
    }

    /// The general path of `decode`, through the JSON parser.
    static func decodeParsed(_ doc: [UInt8]) throws -> OrderView {
        let json = try JSON.parse(bytes: doc)
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

    /// The record's `doc`: the order as the API shows it (keys sorted, money as decimal strings,
    /// with each line's total, the item count and the order's total), so `getOrder` hands these
    /// bytes to the client as they are.
    public static func encode(_ view: OrderView) -> [UInt8] {
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
        json.key("itemCount")
        json.raw(String(view.itemCount))
        json.key("items")
        json.raw("[")
        for (index, item) in view.items.enumerated() {
            if index > 0 { json.raw(",") }
            json.raw("{")
            json.key("lineTotal", first: true)
            json.string(item.lineTotal.description)
            json.key("name")
            json.string(item.name)
            json.key("quantity")
            json.raw(String(item.quantity))
            json.key("sku")
            json.string(item.sku)
            json.key("unitPrice")
            json.string(item.unitPrice.description)
            json.raw("}")
        }
        json.raw("]")
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
        json.key("total")
        json.string(view.total.description)
        json.key("updatedAt")
        json.string(view.updatedAt.description)
        json.key("version")
        json.raw(String(view.version))
        json.raw("}")
        return json.bytes
    }

    public func apply(_ event: OrderEvent, of recorded: RecordedEvent, to state: OrderState?) -> OrderState? {
        switch (state, event) {
        case (.deleted?, _): return state // nothing follows a deletion
        case (.visible(let view)?, .deleted): return .deleted(words: view.textWords)
        default: return OrderView.applying(event, of: recorded, to: state?.view).map(OrderState.visible)
        }
    }

    public func write(_ orderId: String, from oldState: OrderState?, to newState: OrderState?, into batch: inout ProjectionBatch,
                      in keys: ViewKeys) {
        // An order's words are fixed at its creation and stay in the word sets after a deletion.
        if oldState == nil, let newState {
            for word in newState.textWords {
                batch.addToCappedSet(keys.word(word), orderId, bound: commonWordBound, commons: keys.commonWords,
                                     list: keys.words, name: word)
            }
        }
        let old = oldState?.view, new = newState?.view
        if let new {
            batch.setField(keys.record(orderId), "doc", String(decoding: Self.encode(new), as: UTF8.self))
        } else if old != nil {
            batch.deleteKey(keys.record(orderId))
        }
        // After creation only the status (and its history) changes: then only the status index
        // moves. Anything else (creation, deletion) diffs every index entry.
        if let old, let new, old.items == new.items, old.customerEmail == new.customerEmail,
           old.customerName == new.customerName, old.createdAt == new.createdAt {
            if old.status != new.status {
                batch.removeMember(keys.byStatus(old.status), orderId)
                batch.addMember(keys.byStatus(new.status), orderId, score: String(new.createdAt.milliseconds))
            }
            return
        }
        let before = old.map { indexEntries($0, keys) } ?? []
        let after = new.map { indexEntries($0, keys) } ?? []
        for entry in before where !after.contains(where: { $0.key == entry.key && $0.member == entry.member }) {
            batch.removeMember(entry.key, entry.member)
        }
        for entry in after where !before.contains(entry) { batch.addMember(entry.key, entry.member, score: entry.score) }
        // An id word's entry leaves its bucket with the order; a bucket left empty leaves the list
        // of buckets, and a bucket joins it with its first entry.
        let oldIdWords = old?.idWords ?? [], newIdWords = new?.idWords ?? []
        for word in oldIdWords.subtracting(newIdWords) {
            let bucket = ViewKeys.idBucket(of: word)
            batch.removeMember(keys.idBucket(bucket), word + "\u{0}" + orderId, list: keys.idBuckets, name: bucket)
        }
        for word in newIdWords.subtracting(oldIdWords) {
            let bucket = ViewKeys.idBucket(of: word)
            batch.addMember(keys.idBucket(bucket), word + "\u{0}" + orderId, score: "0", list: keys.idBuckets, name: bucket)
        }
    }

    struct IndexEntry: Hashable {
        let key: String
        let score: String
        let member: String
    }

    /// The order's entries in the sorted-set indexes (its search words are elsewhere:
    /// `textWords` in word sets, `idWords` in id buckets).
    func indexEntries(_ view: OrderView, _ keys: ViewKeys) -> [IndexEntry] {
        let created = String(view.createdAt.milliseconds)
        return [
            IndexEntry(key: keys.byStatus(view.status), score: created, member: view.orderId),
            IndexEntry(key: keys.byCustomer(view.customerEmail), score: created, member: view.orderId),
            IndexEntry(key: keys.byCreated, score: created, member: view.orderId),
            IndexEntry(key: keys.byTotal, score: String(view.total.cents), member: view.orderId),
        ]
    }
}

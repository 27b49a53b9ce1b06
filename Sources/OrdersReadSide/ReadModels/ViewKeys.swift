import OrdersDomain
import OrdersEventLog
/// Keys of the read models. Each projection's keys live under a generation (`g1`, `g2`, …) so a
/// rebuild can fill a new generation beside the live one; `orders:{0}:view:live` names the live
/// generation of each projection. All share the partition's hash tag with the log.
///
///     orders:{0}:view:live                                 hash   projection → live generation
///     orders:{0}:view:<projection>:g1:checkpoint          string the last log position applied (batches commit it with their writes)
///     orders:{0}:view:<projection>:g1:lease               string the token of the one projector applying batches (expires)
///     orders:{0}:view:order:g1:record:<orderId>            hash   doc (the order as getOrder answers it; gone once deleted)
///     orders:{0}:view:order:g1:by-status:<status>          zset   orderId scored by createdAt (ms)
///     orders:{0}:view:order:g1:by-customer:<email>         zset   orderId scored by createdAt
///     orders:{0}:view:order:g1:by-created                  zset   orderId scored by createdAt
///     orders:{0}:view:order:g1:by-total                    zset   orderId scored by total (cents)
///     orders:{0}:view:order:g1:words                       zset   every distinct search word, all score 0 (prefix lookup)
///     orders:{0}:view:order:g1:word:<word>                 set    the orderIds whose customer or item words include <word> (deleted ones too), up to 2,000
///     orders:{0}:view:order:g1:common-words                set    the words past 2,000 orders: their sets are gone
///     orders:{0}:view:order:g1:id:<abc>                   zset   "<word>\0<orderId>" for each order-id word starting with <abc>, score 0
///     orders:{0}:view:order:g1:id-buckets                  zset   every id bucket's name (<abc>), score 0 (prefix lookup)
///     orders:{0}:view:summary:g1:totals                    hash   orders, revenue (cents), revenueOrders, status:<s>, amount:<s> (cents)
///     orders:{0}:view:summary:g1:customers:revenue         zset   email scored by revenue (cents, as a double)
///     orders:{0}:view:summary:g1:customers:revenue-cents   hash   email → revenue in cents, exact
///     orders:{0}:view:summary:g1:customers:count           zset   email scored by order count
///     orders:{0}:view:summary:g1:days                      hash   orders:<day>, revenue:<day> (UTC days)
public struct ViewKeys: Sendable, Hashable {
    public let keys: KeySchema
    public let projection: String
    public let generation: Int

    /// Everything of this projection's generation starts with this (for SCAN MATCH when dropping
    /// it). Stored: every key below is built from it, many times per order in a rebuild.
    public let prefix: String

    public init(keys: KeySchema, projection: String, generation: Int) {
        self.keys = keys
        self.projection = projection
        self.generation = generation
        self.prefix = keys.prefix + "view:\(projection):g\(generation):"
    }

    public static func live(_ keys: KeySchema) -> String { keys.prefix + "view:live" }


    // Every projection's progress.
    public var checkpoint: String { prefix + "checkpoint" }
    public var lease: String { prefix + "lease" }
    /// True for the keys that record a generation's progress rather than its content.
    public func isProgress(_ key: String) -> Bool { key == checkpoint || key == lease }

    // The order projection's keys.
    public func record(_ orderId: String) -> String { prefix + "record:" + orderId }
    public func byStatus(_ status: OrderStatus) -> String { prefix + "by-status:" + status.rawValue }
    public func byCustomer(_ email: String) -> String { prefix + "by-customer:" + TextFolding.fold(email) }
    public var byCreated: String { prefix + "by-created" }
    public var byTotal: String { prefix + "by-total" }
    public var words: String { prefix + "words" }
    public func word(_ word: String) -> String { prefix + "word:" + word }
    public var commonWords: String { prefix + "common-words" }
    public func idBucket(_ name: String) -> String { prefix + "id:" + name }
    public var idBuckets: String { prefix + "id-buckets" }
    /// The bucket an id word's entry goes in: its first three characters (the word itself when
    /// shorter). Order ids are random: 4,096 buckets of hex prefixes stay small (a listpack each,
    /// with Redis's default of 128 entries, up to ~100,000 orders).
    public static func idBucket(of word: String) -> String { String(word.prefix(idBucketLength)) }
    public static let idBucketLength = 3

    // The summary projection's keys.
    public var totals: String { prefix + "totals" }
    public var customersByRevenue: String { prefix + "customers:revenue" }
    public var customersByCount: String { prefix + "customers:count" }
    public var customerRevenueCents: String { prefix + "customers:revenue-cents" }
    public var days: String { prefix + "days" }
}

import OrdersDomain
/// The keys of one partition of a store, in one place. All keys start with the namespace, and
/// every key of a partition carries the partition's hash tag (`{0}` for a store of one partition;
/// `StoreLayout` picks the tags of a store of more), so every atomic call touches one slot of a
/// Redis Cluster.
///
///     orders:{0}:stream:<orderId>     stream  one order's events, oldest first
///     orders:{0}:log                  stream  every event of the partition in commit order
///     orders:{0}:commands:<bucket>    hash    command id → its first result and when it expires
///                                             (4,096 buckets by a hash of the id)
///     orders:{0}:command:<commandId>  string  the same, as library versions before 8 kept it
///     orders:{0}:snapshot:<orderId>   hash    the aggregate's state at a version
///     orders:{0}:dead-letter          stream  log entries a projector gave up on, with the error
///     orders:{0}:dead-letter:counts   hash    projection → entries it dead-lettered
public struct KeySchema: Sendable, Hashable {
    public let namespace: String
    public let partition: Int
    /// The hash tag of the partition's keys (the text between the braces).
    public let tag: String
    /// What every key of the partition starts with: `<namespace>:{<tag>}:`.
    public let prefix: String

    /// The keys of partition 0 of a store of one partition (tag `0`), or of any partition with
    /// the tag its `StoreLayout` chose.
    public init(namespace: String = "orders", partition: Int = 0, tag: String? = nil) {
        precondition(KeySchema.isValidNamespace(namespace), "invalid namespace \(namespace)")
        self.namespace = namespace
        self.partition = partition
        self.tag = tag ?? String(partition)
        self.prefix = "\(namespace):{\(self.tag)}:"
    }

    /// Letters, digits, '-', '_' and '.': readable in redis-cli and free of the ':' and '{'
    /// that give keys their structure.
    public static func isValidNamespace(_ text: String) -> Bool {
        !text.isEmpty && text.count <= 64 && text.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) }
    }

    public var log: String { prefix + "log" }
    public func stream(_ orderId: String) -> String { prefix + "stream:" + orderId }
    /// Where library versions before 8 kept a command id's result (read until they expire).
    public func legacyCommand(_ commandId: String) -> String { prefix + "command:" + commandId }
    /// The bucket of command ids that holds `commandId`'s result.
    public func commandBucket(_ commandId: String) -> String { commandBucket(number: Self.bucket(of: commandId)) }
    public func commandBucket(number: Int) -> String { prefix + "commands:" + Self.bucketName(number) }
    public static let commandBuckets = 4096

    /// FNV-1a of the id's bytes, folded to a bucket: spreads random and sequential ids alike.
    static func bucket(of commandId: String) -> Int {
        Int(fnv1a(commandId) % UInt32(commandBuckets))
    }

    /// 32-bit FNV-1a of the text's UTF-8 bytes: cheap, and stable across builds and machines
    /// (Swift's `hashValue` is seeded per process), so it can place data.
    static func fnv1a(_ text: String) -> UInt32 {
        var hash: UInt32 = 2_166_136_261
        for byte in text.utf8 { hash = (hash ^ UInt32(byte)) &* 16_777_619 }
        return hash
    }

    /// Three hex digits: `orders:{0}:commands:0a7`.
    static func bucketName(_ number: Int) -> String {
        let hex = String(number, radix: 16)
        return String(repeating: "0", count: max(0, 3 - hex.count)) + hex
    }
    public func snapshot(_ orderId: String) -> String { prefix + "snapshot:" + orderId }
    public var deadLetter: String { prefix + "dead-letter" }
    public var deadLetterCounts: String { prefix + "dead-letter:counts" }
}

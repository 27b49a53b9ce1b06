import OrdersDomain
/// Every Redis key the service uses, in one place. All keys start with the namespace, and all
/// keys that one atomic call touches share one hash tag (`{0}`, the partition), so the same calls
/// can later run on Redis Cluster with more partitions.
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

    public init(namespace: String = "orders", partition: Int = 0) {
        precondition(KeySchema.isValidNamespace(namespace), "invalid namespace \(namespace)")
        self.namespace = namespace
        self.partition = partition
    }

    /// Letters, digits, '-', '_' and '.': readable in redis-cli and free of the ':' and '{'
    /// that give keys their structure.
    public static func isValidNamespace(_ text: String) -> Bool {
        !text.isEmpty && text.count <= 64 && text.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) }
    }

    /// What every key of the partition starts with: `<namespace>:{<partition>}:`.
    public var prefix: String { "\(namespace):{\(partition)}:" }

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
        var hash: UInt32 = 2_166_136_261
        for byte in commandId.utf8 { hash = (hash ^ UInt32(byte)) &* 16_777_619 }
        return Int(hash % UInt32(commandBuckets))
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

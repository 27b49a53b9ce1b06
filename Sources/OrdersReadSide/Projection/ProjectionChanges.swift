import RedisClient
import OrdersDomain
import OrdersEventLog

/// The Redis writes one projected update of one order makes. `ProjectionBatch` sends the changes
/// of many orders in one `orders_project` call, which applies each order's only if its guard
/// still holds the version the projector read.
public struct ProjectionChanges: Sendable {
    /// One write: a command of `orders_project`'s list on `keys[key]`; RANK and DROPWORD name a
    /// second key (`keys[otherKey]`: the exact sums' hash, the word list).
    package struct Operation: Sendable {
        package let command: String
        package let key: Int
        package let otherKey: Int?
        package let arguments: [String]
    }

    public private(set) var keys: [String]
    package private(set) var operations: [Operation] = []
    public var count: Int { operations.count }

    public init(guardKey: String) {
        keys = [guardKey]
    }

    /// Commands that take any number of fields or members: consecutive ones on the same key are
    /// merged into one.
    private static let variadic: Set<String> = ["HSET", "HDEL", "ZADD", "ZREM", "SADD", "SREM"]

    public mutating func add(_ command: String, _ key: String, _ arguments: [String]) {
        let index = self.index(of: key)
        if let last = operations.last, last.key == index, last.command == command, Self.variadic.contains(command) {
            operations[operations.count - 1] = Operation(command: command, key: index, otherKey: nil,
                                                         arguments: last.arguments + arguments)
        } else {
            operations.append(Operation(command: command, key: index, otherKey: nil, arguments: arguments))
        }
    }

    /// Adds `delta` to `member`'s exact sum in the hash `sums` and scores it by that sum in the
    /// sorted set `ranking` (orders_project's RANK): the ranking's score is the exact sum rounded
    /// once, whatever the path to it, and the exact figure stays in the hash.
    public mutating func rank(_ ranking: String, sums: String, member: String, delta: Int64) {
        let other = index(of: sums)
        operations.append(Operation(command: "RANK", key: index(of: ranking), otherKey: other, arguments: [member, String(delta)]))
    }

    /// Once the search word's set `set` is empty, `word` leaves the word list `list`
    /// (orders_project's DROPWORD).
    public mutating func dropWordIfEmpty(_ set: String, list: String, word: String) {
        let other = index(of: list)
        operations.append(Operation(command: "DROPWORD", key: index(of: set), otherKey: other, arguments: [word]))
    }

    /// The 0-based position of `key` among the keys, adding it when it is new. A change touches
    /// a handful of keys: a linear search beats hashing them.
    private mutating func index(of key: String) -> Int {
        if let index = keys.firstIndex(of: key) { return index }
        keys.append(key)
        return keys.count - 1
    }

    /// The `FCALL orders_project` of these changes alone, applied if the guard is at `expected`.
    func command(guardField: String, expected: Int, guardValue: String) -> RedisCommand {
        var batch = ProjectionBatch()
        batch.add(self, guardField: guardField, expected: expected, guardValue: guardValue)
        return batch.command()
    }
}

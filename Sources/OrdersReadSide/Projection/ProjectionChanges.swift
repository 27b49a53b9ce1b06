import RedisClient
import OrdersDomain
import OrdersEventLog

/// The Redis writes one projected update makes, gathered for one `orders_project` call: the
/// function applies them only if the guard still holds the version the projector read.
public struct ProjectionChanges: Sendable {
    /// One write: a command of `orders_project`'s list on `keys[key]`.
    package struct Operation: Sendable {
        package let command: String
        package let key: Int
        package let arguments: [String]
    }

    public private(set) var keys: [String]
    package private(set) var operations: [Operation] = []
    public var count: Int { operations.count }

    public init(guardKey: String) {
        keys = [guardKey]
    }

    /// Commands that take any number of fields or members: consecutive ones on the same key are
    /// merged into one, so `orders_project` makes one `redis.call` where it made one per member
    /// (a new order's ~17 search terms were ~17 calls).
    private static let variadic: Set<String> = ["HSET", "HDEL", "ZADD", "ZREM", "SADD", "SREM"]

    public mutating func add(_ command: String, _ key: String, _ arguments: [String]) {
        let index = self.index(of: key) - 1
        if let last = operations.last, last.key == index, last.command == command, Self.variadic.contains(command) {
            operations[operations.count - 1] = Operation(command: command, key: index, arguments: last.arguments + arguments)
        } else {
            operations.append(Operation(command: command, key: index, arguments: arguments))
        }
    }

    /// Adds `delta` to `member`'s exact sum in the hash `sums` and scores it by that sum in the
    /// sorted set `ranking` (orders_project's RANK): the ranking's score is the exact sum rounded
    /// once, whatever the path to it, and the exact figure stays in the hash.
    public mutating func rank(_ ranking: String, sums: String, member: String, delta: Int64) {
        add("RANK", ranking, [String(index(of: sums)), member, String(delta)])
    }

    /// The 1-based position of `key` among the keys (as `orders_project` numbers them), adding
    /// it when it is new. A change touches a handful of keys: a linear search beats hashing them.
    public mutating func index(of key: String) -> Int {
        if let index = keys.firstIndex(of: key) { return index + 1 }
        keys.append(key)
        return keys.count
    }

    /// The `FCALL orders_project` that applies these changes if the guard is at `expected`.
    func command(guardField: String, expected: Int, guardValue: String) -> RedisCommand {
        var command = RedisCommand.Builder(capacity: 1024)
        command.append("FCALL")
        command.append("orders_project")
        command.append(keys.count)
        for key in keys { command.append(key) }
        command.append(FunctionLibrary.version)
        command.append(guardField)
        command.append(expected)
        command.append(guardValue)
        command.append(count)
        for operation in operations {
            // orders_project numbers keys from 1, as KEYS does.
            command.append(operation.command)
            command.append(operation.key + 1)
            command.append(operation.arguments.count)
            for argument in operation.arguments { command.append(argument) }
        }
        return command.command
    }
}

import RedisClient
import OrdersEventLog

/// The changes of many orders in one `FCALL orders_project`. Redis checks each order's guard and
/// applies the changes of those whose guard holds, merged: one write per key (and per counter)
/// for the whole batch instead of one per order, which is most of what projecting costs Redis.
/// The reply says, per order in the order added, `applied` with the new version or `stale` with
/// the version found (nothing of that order written).
struct ProjectionBatch {
    private var keys: [String] = []
    private var keyIndexes: [String: Int] = [:]
    private var sections: [[UInt8]] = []
    private(set) var count = 0

    var isEmpty: Bool { count == 0 }

    mutating func add(_ changes: ProjectionChanges, guardField: String, expected: Int, guardValue: String) {
        var global: [Int] = []
        for key in changes.keys { global.append(index(of: key)) }
        // orders_project numbers keys from 1, as KEYS does.
        func key(_ local: Int) -> [UInt8] { Array(String(global[local] + 1).utf8) }
        sections.append(key(0))
        for argument in [guardField, String(expected), guardValue, String(changes.count)] { sections.append(Array(argument.utf8)) }
        for operation in changes.operations {
            sections.append(Array(operation.command.utf8))
            sections.append(key(operation.key))
            sections.append(operation.otherKey.map(key) ?? [UInt8(ascii: "0")])
            sections.append(Array(String(operation.arguments.count).utf8))
            for argument in operation.arguments { sections.append(Array(argument.utf8)) }
        }
        count += 1
    }

    func command() -> RedisCommand {
        var argv: [[UInt8]] = [Array("FCALL".utf8), Array("orders_project".utf8), Array(String(keys.count).utf8)]
        argv.reserveCapacity(5 + keys.count + sections.count)
        for key in keys { argv.append(Array(key.utf8)) }
        argv.append(Array(String(FunctionLibrary.version).utf8))
        argv.append(Array(String(count).utf8))
        argv.append(contentsOf: sections)
        return RedisCommand(arguments: argv)
    }

    /// Per order: whether it was applied, and the version it now has (applied) or had (stale).
    /// Nil when the reply is not the function's (an error reply, say).
    static func outcomes(of reply: RedisValue, count: Int) -> [(applied: Bool, version: Int)]? {
        guard let parts = reply.array, parts.count == 2 * count else { return nil }
        var outcomes: [(applied: Bool, version: Int)] = []
        for index in stride(from: 0, to: parts.count, by: 2) {
            guard let kind = parts[index].string, let version = parts[index + 1].int else { return nil }
            outcomes.append((kind == "applied", version))
        }
        return outcomes
    }

    private mutating func index(of key: String) -> Int {
        if let index = keyIndexes[key] { return index }
        keys.append(key)
        keyIndexes[key] = keys.count - 1
        return keys.count - 1
    }
}

import Foundation
import OrdersEventLog
import RedisClient

/// `orders move-store --to URL [--redis URL] [--namespace NS]`: copies a stopped store from a
/// single Redis (`--redis`, or ORDERS_REDIS_URL) to another Redis or a Redis Cluster (`--to`),
/// key for key (`StoreMove`), checks that every partition's log arrived whole, and prints what
/// moved. The source is left as it was; instances are then started against the target.
enum MoveStoreCommand {
    static func run(_ arguments: Arguments, environment env: [String: String] = ProcessInfo.processInfo.environment) async throws {
        let from = try RedisURL(arguments.option("redis") ?? env["ORDERS_REDIS_URL"] ?? "redis://127.0.0.1:6390")
        guard let toText = arguments.option("to") else { throw UsageError("--to names the Redis (any node of a cluster) to move the store to") }
        let to = try RedisURL(toText)
        let namespace = arguments.option("namespace") ?? env["ORDERS_NAMESPACE"] ?? "orders"
        guard KeySchema.isValidNamespace(namespace) else {
            throw UsageError("--namespace may hold letters, digits, '-', '_' and '.' only")
        }
        let source = RedisClient(RedisConfiguration(url: from, connections: 1, commandTimeout: .seconds(60)))
        let target = RedisClient(RedisConfiguration(url: to, connections: 1, commandTimeout: .seconds(60)))
        defer {
            source.close()
            target.close()
        }
        let report = try await StoreMove.copy(namespace: namespace, from: source, to: target)
        print("moved store \(namespace) from \(from) to \(to): \(report.keys) keys (\(report.bytes) bytes serialized), "
              + "\(report.orders) orders, \(report.logEntries) log entries")
        try await InitCommand.printLayout(report.layout, on: target)
    }
}

import Foundation
import OrdersEventLog
import RedisClient

/// `orders init [--redis URL] [--namespace NS] [--partitions P]`: creates the store's record in
/// Redis with its number of partitions (a new store only; `serve` would otherwise create it with
/// its own `--partitions`, or 1 on one Redis and 16 on a cluster), loads the function library on every primary, and
/// prints the layout. On an existing store it prints what the store has, and fails when another
/// number of partitions is asked for.
enum InitCommand {
    static func run(_ arguments: Arguments, environment env: [String: String] = ProcessInfo.processInfo.environment) async throws {
        let url = try RedisURL(arguments.option("redis") ?? env["ORDERS_REDIS_URL"] ?? "redis://127.0.0.1:6390")
        let namespace = arguments.option("namespace") ?? env["ORDERS_NAMESPACE"] ?? "orders"
        guard KeySchema.isValidNamespace(namespace) else {
            throw UsageError("--namespace may hold letters, digits, '-', '_' and '.' only")
        }
        var partitions: Int?
        if let text = arguments.option("partitions") {
            guard let number = Int(text), (1...StoreLayout.maxPartitions).contains(number) else {
                throw UsageError("--partitions must be a number from 1 to \(StoreLayout.maxPartitions)")
            }
            partitions = number
        }
        let redis = RedisClient(RedisConfiguration(url: url, connections: 1))
        defer { redis.close() }
        try await FunctionLibrary.ensureLoaded(on: redis)
        try await printLayout(try await StoreCatalog.open(redis, namespace: namespace, partitions: partitions), on: redis)
    }

    /// The store's partitions, each with its keys' prefix and its slot.
    static func printLayout(_ layout: StoreLayout, on redis: RedisClient) async throws {
        let masters = try await redis.primaries()
        print("store \(layout.namespace): \(layout.count) partition\(layout.count == 1 ? "" : "s") on \(masters.count) primar\(masters.count == 1 ? "y" : "ies"), recorded in \(StoreCatalog.key(layout.namespace))")
        for keys in layout.partitions {
            print("  partition \(keys.partition): \(keys.prefix)…  (slot \(HashSlot.of(keys.log)))")
        }
    }
}

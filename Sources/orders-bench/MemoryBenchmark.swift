import Foundation
import OrdersDomain
import OrdersEventLog
import OrdersWriteSide
import OrdersReadSide
import RedisClient

/// Writes `orders` orders of five events each (create, three status changes, and a cancel or a
/// delivery) through the real repository, and reports Redis's used memory per order and per event;
/// with `withReadModels`, also what the two read models add.
/// Run it against an empty Redis with the project's redis.conf (Scripts/bench does).
struct MemoryBenchmark {
    let redis: RedisClient
    let orders: Int
    /// Without command ids nothing is kept for idempotent retries: shows what those records cost.
    let commandIds: Bool
    /// Also build the read models and report what they add.
    var withReadModels = false
    let concurrency = 64

    func run() async throws -> [String: Double] {
        try await FunctionLibrary.ensureLoaded(on: redis)
        let repository = OrderRepository(store: EventStore(redis: redis, keys: KeySchema(namespace: "bench")))
        let before = try await usedMemory()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for worker in 0..<concurrency {
                group.addTask {
                    for index in stride(from: worker, to: orders, by: concurrency) {
                        try await writeOrder(index, repository)
                    }
                }
            }
            try await group.waitForAll()
        }
        let after = try await usedMemory()
        let perOrder = Double(after - before) / Double(orders)
        var figures = ["orders": Double(orders), "bytesPerOrder": perOrder, "bytesPerEvent": perOrder / 5]
        if withReadModels {
            // Both read models built from the log, as a rebuild (or the projectors) leave them.
            try await ReplayService(log: repository.store.log, dropGrace: .zero).rebuild([OrderProjection.name, SummaryProjection.name])
            let models = try await usedMemory()
            figures["readModelBytesPerOrder"] = Double(models - after) / Double(orders)
            figures["totalBytesPerOrder"] = Double(models - before) / Double(orders)
            // What an order costs once the log's retention window has passed it: the bus
            // trimmed behind the (caught-up) groups, as `--log-retention 0` keeps it.
            try await LogRetention(log: repository.store.log, window: .zero).trim()
            figures["totalBytesPerOrderLogTrimmed"] = Double(try await usedMemory() - before) / Double(orders)
        }
        for (structure, bytes) in try await breakdown(repository.store.keys) {
            figures["bytesPerOrder." + structure] = Double(bytes) / Double(orders)
        }
        return figures
    }

    /// `MEMORY USAGE` (every element counted) of every key, summed by the structure it belongs
    /// to: where the bytes of an order go.
    private func breakdown(_ keys: KeySchema) async throws -> [String: Int] {
        var names: [String] = []
        var cursor = "0"
        repeat {
            let reply = try await redis.send("SCAN", cursor, "MATCH", keys.prefix + "*", "COUNT", 5000)
            cursor = reply.array?[0].string ?? "0"
            names += (reply.array?[1].array ?? []).compactMap(\.string)
        } while cursor != "0"
        var totals: [String: Int] = [:]
        for start in stride(from: 0, to: names.count, by: 1000) {
            let batch = Array(names[start..<min(names.count, start + 1000)])
            let replies = try await redis.pipeline(batch.map { RedisCommand("MEMORY", "USAGE", $0, "SAMPLES", 0) })
            for (name, reply) in zip(batch, replies) {
                totals[Self.structure(of: String(name.dropFirst(keys.prefix.count))), default: 0] += reply.int ?? 0
            }
        }
        return totals
    }

    /// The structure a key (without the store's prefix) belongs to, as the README's key table names them.
    static func structure(of key: String) -> String {
        let view = key.split(separator: ":", maxSplits: 3).map(String.init)
        switch view.first {
        case "stream": return "orderStreams"
        case "log": return "log"
        case "command": return "commandIds"
        case "snapshot": return "snapshots"
        case "view" where view.count >= 4 && view[1] == "order":
            let rest = view[3]
            if rest.hasPrefix("record:") { return "orderRecords" }
            if rest.hasPrefix("word:") { return "searchWordSets" }
            if rest == "words" { return "searchWordList" }
            if rest.hasPrefix("id:") || rest == "id-buckets" { return "idBuckets" }
            return "orderIndexes"
        case "view" where view.count >= 2 && view[1] == "summary": return "summary"
        default: return "other"
        }
    }

    private func writeOrder(_ index: Int, _ repository: OrderRepository) async throws {
        var aggregate = OrderAggregate(orderId: UUID().uuidString.lowercased())
        let commands: [OrderCommand] = [
            .create(customerName: "Customer \(index % 5000)", customerEmail: "customer\(index % 5000)@example.com",
                    items: [OrderItem(sku: "SKU-\(index % 100)", name: "Blue mug", quantity: 2, unitPrice: Money(cents: 999)),
                            OrderItem(sku: "SKU-\(index % 37)", name: "Green tea", quantity: 1, unitPrice: Money(cents: 450))]),
            .updateStatus(.confirmed), .updateStatus(.processing),
            index % 20 == 0 ? .cancel(reason: "customer asked") : .updateStatus(.shipped),
            index % 20 == 0 ? .delete : .updateStatus(.delivered),
        ]
        for command in commands {
            let events = try aggregate.decide(command)
            (_, aggregate) = try await repository.save(
                aggregate, events: events, expected: .exactly(aggregate.version),
                metadata: EventMetadata(commandId: commandIds ? UUID().uuidString.lowercased() : nil),
                at: .now())
        }
    }

    private func usedMemory() async throws -> Int {
        let info = try await redis.send("MEMORY", "STATS").array ?? []
        // MEMORY STATS is a flat list of name, value pairs; dataset.bytes excludes client buffers
        // and the server's fixed overhead, so the difference is what the data costs.
        for index in stride(from: 0, to: info.count - 1, by: 2) where info[index].string == "dataset.bytes" {
            return info[index + 1].int ?? 0
        }
        throw BenchmarkError("MEMORY STATS has no dataset.bytes")
    }
}

struct BenchmarkError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

import Foundation
import OrdersDomain
import OrdersEventLog
import OrdersWriteSide
import OrdersReadSide
import OrdersAPI
import RedisClient
import Testing
import TestSupport

/// `orders serve --auto-rebuild`, as a process: a live read model built with an older schema is
/// rebuilt by itself at start-up, and the service answers from the new generation.
@Suite(.enabled(if: TestRedis.shouldRun))
struct AutoRebuildTests {
    @Test func aServiceStartedWithAutoRebuildRebuildsAnOutdatedReadModel() async throws {
        let binary = ServiceProcess.binary(besides: CommandLine.arguments[0])
        let namespace = TestRedis.uniqueNamespace("auto")
        let url = try TestRedis.url()
        let first = try ServiceProcess(binary: binary, redis: url, namespace: namespace)
        try await first.start()
        // The store as the service created it (16 partitions on a cluster).
        let redis = RedisClient(url: url)
        let store = EventStore(redis: redis, layout: try await StoreCatalog.open(redis, namespace: namespace))
        let audit = StoreAudit(store: store)
        let created = try await onThreads(1) { [port = first.port] _ in
            let client = try OrdersClient(port: port)
            return try (0..<20).map { index in
                (try client.call("createOrder", ["customerName": "Auto \(index)", "customerEmail": "auto\(index)@example.com",
                    "items": [["sku": "A", "name": "Auto", "quantity": 1, "unitPrice": "1.00"]]]) as! [String: Any])["orderId"] as! String
            }
        }[0]
        try await audit.converge(within: .seconds(60))
        first.kill()

        // As if generation 1 had been built by an older build of the order projection.
        let lives = store.logs.partitions.map { LiveGenerations(log: $0) }
        for log in store.logs.partitions {
            try await store.redis.send("HSET", ViewKeys.live(log.keys), "order:schema", OrderProjection.schemaVersion - 1)
        }
        for live in lives { #expect(try await live.schemaMismatches().map(\.projection) == ["order"]) }

        let second = try ServiceProcess(binary: binary, redis: url, namespace: namespace, extraArguments: ["--auto-rebuild"])
        try await second.start()
        defer { second.kill() }
        try await eventually(within: .seconds(60)) {
            for live in lives {
                guard try await live.schemaMismatches().isEmpty, try await live.live("order") != 1 else { throw CancellationError() }
            }
        }
        let (health, total, found) = try await onThreads(1) { [port = second.port] _ in
            let client = try OrdersClient(port: port)
            let health = (try client.call("health") as! [String: Any])["status"] as? String
            let total = (try client.call("summary") as! [String: Any])["totalOrders"] as? Int
            let found = try created.filter { (try? client.call("getOrder", ["orderId": $0])) != nil }.count
            return (health, total, found)
        }[0]
        #expect(health == "ok")
        #expect(total == 20)
        #expect(found == 20, "every order is in the rebuilt generation")
    }
}

import Foundation
import OrdersDomain
import OrdersEventLog
import OrdersWriteSide
import OrdersReadSide
import OrdersAPI
import RedisClient
import Testing
import TestSupport

/// Redis restarting under the service: still loading its AOF when the service starts, or back
/// without the function library and the consumer groups.
@Suite(.enabled(if: TestRedis.shouldRun))
struct RedisRestartTests {
    @Test func aServiceStartedWhileRedisLoadsItsAOFWaitsForIt() async throws {
        // 20,000 keys at 200 µs each: the restarted Redis answers LOADING for about 4 s.
        let redis = try RedisServerProcess(arguments: ["--appendfsync", "always", "--key-load-delay", "200"])
        try redis.start()
        let client = RedisClient(RedisConfiguration(url: redis.url, commandTimeout: TestRedis.commandTimeout))
        try await client.send("EVAL", "for i = 1, 20000 do redis.call('SET', 'filler:' .. i, i) end", 0)
        client.close()
        redis.kill()
        try redis.start() // returns once it answers at all (LOADING included)

        let service = try ServiceProcess(binary: ServiceProcess.binary(besides: CommandLine.arguments[0]), redis: redis.url,
                                         namespace: TestRedis.uniqueNamespace("loading"))
        try await service.start(within: .seconds(60))
        defer { service.kill() }
        let health = try await onThreads(1) { [port = service.port] _ in
            (try OrdersClient(port: port).call("health") as? [String: Any])?["status"] as? String
        }[0]
        #expect(health == "ok")
        let log = try String(contentsOf: service.log, encoding: .utf8)
        #expect(log.contains("server.waiting_for_redis") && log.contains("LOADING"), "it met Redis loading and waited")
    }

    @Test func commandsAndProjectorsCarryOnWhenRedisLosesTheLibraryAndItsData() async throws {
        let redis = try RedisServerProcess()
        try redis.start()
        let server = try await TestServer(redis: redis.url)
        defer { Task { await server.stop() } }
        let admin = server.store.redis

        func createAndRead(_ name: String) async throws -> String {
            try await onThreads(1) { _ in
                let client = try server.client()
                let created = try client.call("createOrder", ["customerName": name, "customerEmail": "r@example.com",
                    "items": [["sku": "S", "name": "N", "quantity": 1, "unitPrice": "1.00"]]]) as! [String: Any]
                let order = try client.call("getOrder", ["orderId": created["orderId"]!, "minPosition": created["position"]!])
                return (order as! [String: Any])["customerName"] as! String
            }[0]
        }
        #expect(try await createAndRead("Before") == "Before")

        // FUNCTION FLUSH, as on a replica promoted without the library.
        try await admin.send("FUNCTION", "FLUSH")
        #expect(try await createAndRead("After flush") == "After flush")

        // Restarted empty: no data, no consumer groups, no library.
        try await admin.send("FLUSHALL")
        try await admin.send("FUNCTION", "FLUSH")
        #expect(try await createAndRead("After restart") == "After restart")
    }

    struct StillUp: Error {}

    @Test func metricsShowRedisDownAndTheReconnectAfter() async throws {
        let redis = try RedisServerProcess()
        try redis.start()
        let server = try await TestServer(redis: redis.url)
        defer { Task { await server.stop() } }
        let port = server.httpPort
        @Sendable func sample(_ name: String) throws -> Double? {
            let text = try HTTPConnection(port: port).request("GET", "/metrics").text
            let line = text.split(separator: "\n").first { $0.hasPrefix(name + " ") }
            return line.flatMap { Double($0.dropFirst(name.count + 1)) }
        }
        let reconnectsBefore = try await onThreads(1) { _ in try sample("orders_redis_reconnects_total") }[0] ?? -1
        redis.kill()
        // While Redis is down the metrics still answer, and say so.
        try await eventually(within: .seconds(20)) {
            let up = try await onThreads(1) { _ in try sample("orders_redis_up") }[0]
            guard up == 0 else { throw StillUp() }
        }
        try redis.start()
        try await eventually(within: .seconds(20)) {
            _ = try await onThreads(1) { _ in
                _ = try server.client().call("createOrder", ["customerName": "Back", "customerEmail": "b@example.com",
                                                             "items": [["sku": "S", "name": "N", "quantity": 1, "unitPrice": "1.00"]]])
            }
        }
        let (up, reconnects) = try await onThreads(1) { _ in
            (try sample("orders_redis_up"), try sample("orders_redis_reconnects_total"))
        }[0]
        #expect(up == 1)
        #expect((reconnects ?? 0) > reconnectsBefore, "the connections made again are counted")
    }

    @Test func aProjectorWhoseWriteFindsTheLibraryGoneLoadsItAndApplies() async throws {
        let redis = try RedisServerProcess()
        try redis.start()
        let client = RedisClient(RedisConfiguration(url: redis.url, commandTimeout: TestRedis.commandTimeout))
        try await FunctionLibrary.ensureLoaded(on: client)
        let store = EventStore(redis: client, keys: KeySchema(namespace: TestRedis.uniqueNamespace("reload")))
        let created = try await CommandHandler(repository: OrderRepository(store: store))
            .handle(.init(orderId: nil, command: .create(customerName: "P", customerEmail: "p@example.com",
                                                         items: [OrderItem(sku: "S", name: "N", quantity: 1, unitPrice: Money(cents: 100))])))
        let projector = Projector(projection: OrderProjection(), log: store.log, settings: ProjectorSettings(consumer: "p", block: .milliseconds(20)))
        try await projector.createGroup()
        try await client.send("FUNCTION", "FLUSH")
        #expect(try await projector.step() == 1)
        #expect(try await QueryHandler(log: store.log).order(created.orderId).customerName == "P")
        #expect(try await FunctionLibrary.loadedVersion(on: client) == FunctionLibrary.version)
    }
}

import Foundation
import Orders
import OrdersAPI
import RedisClient
import Testing
import TestSupport

@Suite(.enabled(if: TestRedis.shouldRun))
struct RedisOutageTests {
    /// Redis dies under the service and comes back from its AOF: meanwhile every request gets a
    /// documented answer (`unavailable` for what needs Redis), none hangs; afterwards the service
    /// recovers by itself, everything acknowledged before is there, and the projectors catch up.
    @Test func theServiceAnswersUnavailableDuringAnOutageAndRecoversByItself() async throws {
        let redis = try RedisServerProcess(arguments: ["--appendfsync", "always"])
        try redis.start()
        let service = try await TestServer(redis: redis.url, namespace: "outage")
        defer { Task { await service.stop() } }

        let before = try await onThreads(1) { _ in
            let client = try service.client()
            return try (0..<20).map { _ in (try client.call("createOrder", createRequest) as! [String: Any])["orderId"] as! String }
        }[0]

        redis.kill()
        let during = try await onThreads(1) { _ -> [String] in
            let client = try service.client()
            return try (0..<20).map { index -> String in
                do {
                    _ = try client.call(index % 2 == 0 ? "createOrder" : "summary", index % 2 == 0 ? createRequest : [:])
                    return "ok"
                } catch let failure as OrdersClient.Failure {
                    return failure.code
                }
            }
        }[0]
        #expect(during.allSatisfy { $0 == "unavailable" }, "\(during)")

        try redis.start() // from the same folder: the AOF brings the data back
        // Each connection lane reconnects on its own (backoff of at most 1 s), so a client retries
        // `unavailable` answers, with a command id so a retried create cannot create twice.
        let after = try await eventually(within: .seconds(20)) {
            try await onThreads(1) { _ -> (String, Int) in
                let client = try service.client()
                let created = try client.call("createOrder", createRequest.merging(["commandId": "after-outage"]) { $1 }) as! [String: Any]
                let total = (try client.call("summary", ["minPosition": created["position"]!]) as! [String: Any])["totalOrders"] as! Int
                return (created["orderId"] as! String, total)
            }[0]
        }
        #expect(after.1 == before.count + 1, "every order acknowledged before the outage, and the new one, are counted")
        for orderId in before {
            #expect(try await service.store.version(of: orderId) == 1)
        }
    }
}

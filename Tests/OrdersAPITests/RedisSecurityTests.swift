import Foundation
import OrdersDomain
import OrdersEventLog
import OrdersWriteSide
import OrdersReadSide
import OrdersAPI
import RedisClient
import Testing
import TestSupport

/// The service against a Redis that requires a password, as an ACL user limited to the project's
/// key namespace and to the non-dangerous commands.
@Suite(.enabled(if: TestRedis.shouldRun))
struct RedisSecurityTests {
    @Test func theServiceWorksAsANamespaceLimitedACLUser() async throws {
        let server = try RedisServerProcess(arguments: ["--requirepass", "admin-secret"])
        try server.start()
        var admin = server.url
        admin.password = "admin-secret"
        let namespace = "shop1"
        try await RedisClient(url: admin).send("ACL", "SETUSER", "orders", "on", ">orders-secret", "~\(namespace):*",
                                                 "resetchannels", "+@all", "-@dangerous")
        var limited = server.url
        limited.username = "orders"
        limited.password = "orders-secret"

        let service = try await TestServer(redis: limited, namespace: namespace)
        defer { Task { await service.stop() } }
        _ = try await onThreads(1) { _ in
            let client = try service.client()
            let created = try client.call("createOrder", createRequest) as! [String: Any]
            let order = try client.call("getOrder", ["orderId": created["orderId"]!, "minPosition": created["position"]!]) as! [String: Any]
            #expect(order["total"] as? String == "24.48")
            let summary = try client.call("summary", ["minPosition": created["position"]!]) as! [String: Any]
            #expect(summary["totalOrders"] as? Int == 1)
        }
        // The limit is real: outside its namespace, and for dangerous commands, the user is refused.
        let user = RedisClient(url: limited)
        await #expect(throws: RedisError.self) { try await user.send("SET", "elsewhere:x", "1") }
        await #expect(throws: RedisError.self) { try await user.send("FLUSHALL") }
        let replay = ReplayService(log: service.store.log, dropGrace: .zero)
        try await replay.rebuild(["order", "summary"]) // SCAN and UNLINK within the namespace work too
    }

    @Test func wrongCredentialsGiveAClearStartUpError() async throws {
        let server = try RedisServerProcess(arguments: ["--requirepass", "admin-secret"])
        try server.start()
        var wrong = server.url
        wrong.password = "not-it"
        let error = await failure { try await FunctionLibrary.ensureLoaded(on: RedisClient(url: wrong)) }
        guard case .unavailable(let message, _) = error else {
            Issue.record("got \(String(describing: error))")
            return
        }
        #expect(message.contains("authentication failed") && message.contains("127.0.0.1:\(server.port)"))
        #expect(!message.contains("not-it"), "the password is never shown")
    }
}

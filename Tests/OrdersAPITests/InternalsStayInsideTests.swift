import Foundation
import OrdersDomain
import OrdersEventLog
import OrdersWriteSide
import OrdersReadSide
import OrdersAPI
import RedisClient
import Testing
import TestSupport

/// Clients get a code, a message about their request and an error id; Redis's address and
/// Redis's own error text stay in the log.
@Suite(.enabled(if: TestRedis.shouldRun))
struct InternalsStayInsideTests {
    /// The error object of the answer to `request`, sent raw.
    private func error(of request: String, on server: TestServer) async throws -> [String: String] {
        try await onThreads(1) { _ in
            let client = try server.client()
            try client.sendRaw(Array(request.utf8) + [0x0a])
            return (try client.receive()["error"] as? [String: Any] ?? [:]).mapValues { "\($0)" }
        }[0]
    }

    private func expectNoInternals(_ error: [String: String], _ words: [String]) {
        let text = "\(error)"
        for word in words { #expect(!text.contains(word), "'\(word)' reached the client: \(text)") }
        #expect(error["errorId"]?.isEmpty == false, "the answer carries the log's error id: \(text)")
    }

    @Test func anOutageAnswersUnavailableWithoutRedissAddress() async throws {
        let redis = try RedisServerProcess()
        try redis.start()
        let server = try await TestServer(redis: redis.url)
        defer { Task { await server.stop() } }
        redis.kill()
        let internals = ["redis://", "127.0.0.1", String(redis.port), "Redis at", "Connection refused"]
        let create = try await error(of: #"{"id":1,"op":"createOrder","customerName":"A","customerEmail":"a@b.io","items":[{"sku":"S","name":"N","quantity":1,"unitPrice":"1"}]}"#, on: server)
        #expect(create["code"] == "unavailable")
        expectNoInternals(create, internals)
        let query = try await error(of: #"{"id":2,"op":"summary"}"#, on: server)
        #expect(query["code"] == "unavailable")
        expectNoInternals(query, internals)
        let health = try await onThreads(1) { _ in
            (try server.client().call("health") as? [String: Any] ?? [:]).mapValues { "\($0)" }
        }[0]
        #expect(health["status"] == "down")
        #expect(!"\(health)".contains("127.0.0.1"))
    }

    @Test func aFaultAnswersInternalWithoutRedissText() async throws {
        let server = try await TestServer()
        defer { Task { await server.stop() } }
        // A read-model key of the wrong type: Redis answers WRONGTYPE.
        try await server.store.redis.send("SET", ViewKeys(keys: server.store.keys, projection: "order", generation: 1).record("broken"), "x")
        let answer = try await error(of: #"{"id":1,"op":"getOrder","orderId":"broken"}"#, on: server)
        #expect(answer["code"] == "internal")
        expectNoInternals(answer, ["WRONGTYPE", "Operation against a key"])
    }
}

import Foundation
import OrdersEventLog
import RedisClient
import Testing
import TestSupport

/// `health` (and the start-up log) name the Redis settings that waste memory or risk events,
/// with what to set instead; a Redis configured like Redis/redis.conf gets no advice.
@Suite(.enabled(if: TestRedis.shouldRun))
struct RedisSettingsTests {
    @Test func adviceNamesWhatToChange() {
        let defaults = RedisSettingsAdvice.advice(for: ["stream-node-max-bytes": "4096", "stream-node-max-entries": "100",
                                                        "maxmemory-policy": "allkeys-lru", "hash-max-listpack-value": "64"])
        #expect(defaults.map(\.setting) == ["stream-node-max-bytes", "hash-max-listpack-value", "maxmemory-policy"])
        #expect(defaults[0].advice.contains("1536"))
        #expect(RedisSettingsAdvice.advice(for: ["stream-node-max-bytes": "1536", "stream-node-max-entries": "100",
                                                 "maxmemory-policy": "noeviction", "hash-max-listpack-value": "128"]).isEmpty)
        #expect(RedisSettingsAdvice.advice(for: [:]).isEmpty, "settings it cannot read: nothing to say")
    }

    /// With durability `replicated:N`, a primary that would take writes without N replicas (so an
    /// isolated old primary acknowledges writes a failover loses) is named; `local` says nothing.
    @Test func replicatedDurabilityAdvisesMinReplicasToWrite() {
        let loose = ["min-replicas-to-write": "0", "min-replicas-max-lag": "10"]
        let replicated = Durability.replicated(replicas: 2, timeout: .seconds(1))
        #expect(RedisSettingsAdvice.advice(for: loose, durability: replicated).map(\.setting) == ["min-replicas-to-write"])
        #expect(RedisSettingsAdvice.advice(for: loose, durability: replicated)[0].advice.contains("min-replicas-to-write 2"))
        #expect(RedisSettingsAdvice.advice(for: ["min-replicas-to-write": "2", "min-replicas-max-lag": "60"], durability: replicated)
            .map(\.setting) == ["min-replicas-max-lag"])
        #expect(RedisSettingsAdvice.advice(for: ["min-replicas-to-write": "2", "min-replicas-max-lag": "10"], durability: replicated).isEmpty)
        #expect(RedisSettingsAdvice.advice(for: loose, durability: .local).isEmpty)
    }

    @Test func healthAdvisesOnARedisWithDefaultStreamNodes() async throws {
        let server = try RedisServerProcess() // Redis's defaults: stream-node-max-bytes 4096, hash-max-listpack-value 64
        try server.start()
        let service = try await TestServer(redis: server.url)
        let health = try service.client().call("health") as? [String: Any] ?? [:]
        let settings = health["redisSettings"] as? [[String: Any]] ?? []
        #expect(settings.map { $0["setting"] as? String } == ["stream-node-max-bytes", "hash-max-listpack-value"])
        #expect(health["status"] as? String == "ok", "advice, not a fault")
        await service.stop()

        let configured = try await TestServer() // the shared test Redis runs Redis/redis.conf
        let fine = try configured.client().call("health") as? [String: Any] ?? [:]
        #expect(fine["redisSettings"] == nil)
        await configured.stop()
    }
}

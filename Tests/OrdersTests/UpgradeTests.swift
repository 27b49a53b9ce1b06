import Foundation
@testable import OrdersDomain
@testable import OrdersEventLog
import OrdersWriteSide
@testable import OrdersReadSide
import RedisClient
import Testing
import TestSupport

/// A store written by the previous layout (whole events on the log, library version 5; read
/// models of older schemas) is upgraded by one `orders replay` (a full rebuild): the read models
/// come out equal to those of a store written by this build from the same events, the old
/// generation's keys are gone, and new appends (references on the log) mix with the old entries.
@Suite(.enabled(if: TestRedis.shouldRun))
struct UpgradeTests {
    @Test func aStoreOfThePreviousLayoutIsUpgradedByOneReplay() async throws {
        // The same history, written by this build and projected live: what the upgrade must give.
        let current = try await makeStore("upgrade-now")
        try await projectLive(current, upTo: try await randomHistory(current, orders: 25, commands: 150, seed: 71))
        let expected = try await liveReadModels(current)

        // The previous layout: every event whole on the log and in its stream, under the same id.
        let old = try await makeStore("upgrade-old")
        for event in try await current.log.readLog(after: nil, limit: 100_000) {
            let fields = ["type", event.type, "version", String(event.version), "eventId", event.eventId,
                          "occurredAt", event.occurredAt.description, "data", event.data, "meta", event.meta]
            try await old.redis.send(RedisCommand("XADD", [old.keys.log, event.position.description, "orderId", event.orderId] + fields))
            try await old.redis.send(RedisCommand("XADD", [old.keys.stream(event.orderId), event.position.description] + fields))
        }
        // Its read models: generation 1 of older schemas, with a key of the old search index.
        let live = ViewKeys.live(old.keys)
        try await old.redis.send("HSET", live, "order", 1, "order:schema", 4, "summary", 1, "summary:schema", 2)
        try await old.redis.send("ZADD", ViewKeys(keys: old.keys, projection: "order", generation: 1).terms, 0, "mug\u{0}o-1")
        #expect(try await LiveGenerations(log: old.log).schemaMismatches().map(\.projection).sorted() == ["order", "summary"])

        // The documented upgrade: `orders replay` (a full rebuild of both projections).
        try await ReplayService(log: old.log, dropGrace: .zero).rebuild(["order", "summary"])
        #expect(try await liveReadModels(old) == expected)
        #expect(try await LiveGenerations(log: old.log).schemaMismatches().isEmpty)
        #expect(try await old.redis.send("EXISTS", ViewKeys(keys: old.keys, projection: "order", generation: 1).terms) == .integer(0),
                "the old generation is dropped, old-layout keys with it")

        // New appends are references, read together with the old whole entries.
        let appended = try await CommandHandler(repository: OrderRepository(store: old)).handle(.init(orderId: nil, command: createSample))
        let log = try await old.log.readLog(after: nil, limit: 100_000)
        #expect(log.last?.orderId == appended.orderId)
        #expect(log.count == (try await current.log.readLog(after: nil, limit: 100_000)).count + 1)
    }
}

extension ViewKeys {
    /// The previous layout's search index (before schema 4), for upgrade tests.
    var terms: String { prefix + "terms" }
}

import Foundation
@testable import OrdersDomain
@testable import OrdersEventLog
@testable import OrdersWriteSide
@testable import OrdersReadSide
import RedisClient
import Testing
import TestSupport

/// The log is the bus: its retention trims what every consumer group has applied (and what is
/// older than the window), never what a group still needs, and everything that read the log
/// for history (a rebuild, `replay --from`) reads the order streams when the log no longer
/// reaches back.
@Suite(.enabled(if: TestRedis.shouldRun))
struct LogRetentionTests {
    private func logIds(_ store: EventStore) async throws -> [LogPosition] {
        try await store.redis.send("XRANGE", store.keys.log, "-", "+").array?
            .compactMap { $0.array?.first?.string.flatMap { LogPosition($0) } } ?? []
    }

    @Test func aLogWithoutConsumerGroupsIsNeverTrimmed() async throws {
        let store = try await makeStore("retention-nogroup")
        try await randomHistory(store, orders: 20, commands: 250, seed: 3)
        let before = try await logIds(store)
        #expect(try await LogRetention(log: store.log, window: .zero).trim() == 0)
        #expect(try await logIds(store) == before)
    }

    @Test func entriesAGroupHasNotAppliedStayAndTheRestGoes() async throws {
        let store = try await makeStore("retention-behind")
        try await randomHistory(store, orders: 150, commands: 400, seed: 4)
        let all = try await logIds(store)
        try #require(all.count > 160, "entries past those the groups below name")
        // One group has applied the first 150 entries and holds the next 10 pending (read, not
        // acknowledged); another is at the head.
        try await store.redis.send("XGROUP", "CREATE", store.keys.log, "behind", all[149].description)
        try await store.redis.send("XREADGROUP", "GROUP", "behind", "c", "COUNT", 10, "STREAMS", store.keys.log, ">")
        try await store.redis.send("XGROUP", "CREATE", store.keys.log, "ahead", "$")
        let retention = LogRetention(log: store.log, window: .zero)
        #expect(try await retention.trimPoint() == all[150], "the oldest entry pending in a group")
        #expect(try await retention.trim() > 0)
        let kept = try await logIds(store)
        #expect(kept.count < all.count)
        #expect(Array(all.suffix(kept.count)) == kept, "only the oldest entries went")
        #expect(kept.contains(all[150]), "a pending entry stays")
        #expect(try await store.log.appendedEvents() == all.count, "the count of appended events stays")
        #expect(try await !store.log.holdsEverything(since: all[0].time))
        #expect(try await store.log.holdsEverything(since: all[150].time))

        // Everything acknowledged: trimmed behind the head, the newest entry kept.
        try await store.redis.send(RedisCommand("XACK", [store.keys.log, "behind"] + all[150..<160].map(\.description)))
        try await store.redis.send("XGROUP", "SETID", store.keys.log, "behind", "$")
        try await retention.trim()
        #expect(try await logIds(store).last == all.last)
        #expect(try await store.log.lastPosition() == all.last)
    }

    @Test func aBacklogPastOneCallsLimitGoesInFull() async throws {
        let store = try await makeStore("retention-backlog")
        // 12,000 entries (one XTRIM … ~ removes at most 100 nodes' worth), then a group at the head.
        for start in stride(from: 0, to: 12_000, by: 2_000) {
            try await store.redis.pipeline((start..<start + 2_000).map { n in
                RedisCommand("XADD", store.keys.log, "*", "orderId", "o\(n)", "version", "1", "type", "TestEvent")
            })
        }
        try await store.redis.send("XGROUP", "CREATE", store.keys.log, "ahead", "$")
        #expect(try await LogRetention(log: store.log, window: .zero).trim() > 11_000)
        #expect(try await store.redis.send("XLEN", store.keys.log).int ?? 0 < 1_000, "only the newest node or so is left")
    }

    @Test func theWindowKeepsYoungEntriesEvenWhenEveryGroupHasAppliedThem() async throws {
        let store = try await makeStore("retention-window")
        try await randomHistory(store, orders: 150, commands: 400, seed: 5)
        try await store.redis.send("XGROUP", "CREATE", store.keys.log, "ahead", "$")
        let before = try await logIds(store)
        #expect(try await LogRetention(log: store.log, window: .seconds(3600)).trim() == 0)
        #expect(try await logIds(store) == before)
    }

    @Test func aRebuildOfATrimmedLogEqualsTheIncrementalModels() async throws {
        let store = try await makeStore("retention-rebuild")
        try await projectLive(store, upTo: try await randomHistory(store, orders: 30, commands: 300, seed: 6))
        let before = try await liveReadModels(store)
        #expect(try await LogRetention(log: store.log, window: .zero).trim() > 0)
        let replay = ReplayService(log: store.log, dropGrace: .milliseconds(50))
        try await replay.rebuild(["order", "summary"])
        #expect(try await liveReadModels(store) == before)
        let status = try await replay.status()
        #expect(status?.total == (try await store.log.appendedEvents()), "progress counts every event, trimmed or not")
    }
}

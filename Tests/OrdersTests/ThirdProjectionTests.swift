import Foundation
import OrdersDomain
import OrdersEventLog
import OrdersReadSide
import OrdersWriteSide
import RedisClient
import Testing
import TestSupport

@Suite(.enabled(if: TestRedis.shouldRun))
struct ThirdProjectionTests {
    @Test func aThirdProjectionRebuildsReplaysAndReportsLikeTheOthers() async throws {
        let projections = Projections.standard + [OrdersPerStatusAndDay()] // the one line
        let store = try await makeStore("third")
        let last = try await randomHistory(store, orders: 30, commands: 200, seed: 7)
        try await projectLive(store, upTo: last)
        try await Projector(projection: OrdersPerStatusAndDay(), log: store.log, settings: quickSettings("live")).drainAll(upTo: last)
        let generations = LiveGenerations(log: store.log, projections: projections)
        try await generations.initialize()
        let third = { ViewKeys(keys: store.keys, projection: "status-day", generation: try await generations.live("status-day")) }
        let live = try await dumpReadModel(store, try await third())

        // Its counts are the orders' own: one per visible order, by status and creation day.
        let orderView = ViewKeys(keys: store.keys, projection: "order", generation: 1)
        let recount = try await recountSummary(store, orderView: orderView)
        let counts = try await store.redis.send("HGETALL", OrdersPerStatusAndDay().counts(try await third())).array ?? []
        let total = stride(from: 1, to: counts.count, by: 2).compactMap { counts[$0].int }.reduce(0, +)
        #expect(total == recount.orders && total > 0)

        // A full rebuild of every projection in the list, the third among them.
        let replay = ReplayService(log: store.log, projections: projections, dropGrace: .milliseconds(50))
        try await replay.rebuild(projections.names)
        #expect(try await generations.live("status-day") > 1)
        #expect(try await dumpReadModel(store, try await third()) == live, "the rebuild equals the live model key for key")

        // An in-place replay from the start re-projects it too, to the same.
        try await replay.replay(from: Timestamp(milliseconds: 0))
        #expect(try await dumpReadModel(store, try await third()) == live)

        // And it reports its status like the others.
        let reports = try await ReadSideOperator(log: store.log, projections: projections).reports()
        #expect(reports.map(\.status.projection) == ["order", "summary", "status-day"])
        #expect(reports.allSatisfy { !$0.needsRebuild })
        #expect(reports.last?.status.generation == (try await generations.live("status-day")))
    }
}

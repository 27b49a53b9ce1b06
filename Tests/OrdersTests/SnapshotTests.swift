import Foundation
import OrdersDomain
import OrdersEventLog
import OrdersWriteSide
import OrdersReadSide
import RedisClient
import Testing
import TestSupport

@Suite(.enabled(if: TestRedis.shouldRun))
struct SnapshotTests {
    /// Creates an order and walks it through `steps` commands, snapshotting every 2 events.
    private func history(_ repository: OrderRepository, orderId: String,
                         steps: [OrderCommand]) async throws -> OrderAggregate {
        var aggregate = OrderAggregate(orderId: orderId)
        for command in [createSample] + steps {
            let events = try aggregate.decide(command)
            (_, aggregate) = try await repository.save(aggregate, events: events, expected: .exactly(aggregate.version),
                                                       metadata: EventMetadata(), at: .now())
        }
        return aggregate
    }

    @Test func snapshotRoundTripAndLoadsWithAndWithoutAreEqual() async throws {
        let repository = OrderRepository(store: try await makeStore(), snapshotEvery: 2)
        let orderId = newOrderId()
        let expected = try await history(repository, orderId: orderId,
                                         steps: [.updateStatus(.confirmed), .updateStatus(.processing), .updateStatus(.shipped)])
        #expect(expected.version == 4 && expected.state?.status == .shipped)

        guard case .usable(let snapshot) = try await repository.loader.snapshot(of: orderId) else {
            Issue.record("no usable snapshot after 4 events with snapshotEvery 2")
            return
        }
        #expect(snapshot.version == 4 && snapshot.aggregate == expected)
        #expect(try await repository.load(orderId) == expected)
        #expect(try await repository.load(orderId, useSnapshot: false) == expected)
    }

    @Test func loadFoldsTheEventsAfterTheSnapshot() async throws {
        let repository = OrderRepository(store: try await makeStore(), snapshotEvery: 2)
        let orderId = newOrderId()
        let expected = try await history(repository, orderId: orderId,
                                         steps: [.updateStatus(.confirmed), .updateStatus(.processing)])
        guard case .usable(let snapshot) = try await repository.loader.snapshot(of: orderId) else {
            Issue.record("no snapshot")
            return
        }
        #expect(snapshot.version == 2, "the third event came after the snapshot")
        let loaded = try await repository.load(orderId)
        #expect(loaded == expected && loaded.state?.status == .processing)
    }

    @Test func snapshotOfAnotherSchemaIsIgnoredAndReplaced() async throws {
        let store = try await makeStore()
        let repository = OrderRepository(store: store, snapshotEvery: 1000)
        let orderId = newOrderId()
        let expected = try await history(repository, orderId: orderId, steps: [.updateStatus(.confirmed)])
        // A snapshot an older build wrote, in a shape this build cannot read and must not trust.
        try await store.redis.send("HSET", store.keys.snapshot(orderId), "version", 1, "schema", 0,
                                   "position", "1-0", "state", "{\"old\":true}", "takenAt", "2020-01-01T00:00:00.000Z")
        guard case .stale(schema: 0) = try await repository.loader.snapshot(of: orderId) else {
            Issue.record("the old snapshot was not reported stale")
            return
        }
        #expect(try await repository.load(orderId) == expected)
        guard case .usable(let replaced) = try await repository.loader.snapshot(of: orderId) else {
            Issue.record("the stale snapshot was not replaced")
            return
        }
        #expect(replaced.schema == OrderAggregate.snapshotSchema && replaced.aggregate == expected)
    }

    @Test func anOlderSnapshotNeverReplacesANewerOne() async throws {
        let store = try await makeStore()
        let repository = OrderRepository(store: store, snapshotEvery: 1000)
        let orderId = newOrderId()
        let latest = try await history(repository, orderId: orderId, steps: [.updateStatus(.confirmed)])
        let events = try await store.log.events(of: orderId)
        try await repository.loader.saveSnapshot(latest, position: events[1].position)
        var older = OrderAggregate(orderId: orderId)
        older.apply(try OrderEventCoding.decode(type: events[0].type, data: events[0].data), at: events[0].occurredAt)
        try await repository.loader.saveSnapshot(older, position: events[0].position)
        guard case .usable(let kept) = try await repository.loader.snapshot(of: orderId) else {
            Issue.record("no snapshot")
            return
        }
        #expect(kept.version == 2)
    }

    @Test func orderAsOfATimeFoldsOnlyEarlierEvents() async throws {
        let store = try await makeStore()
        let repository = OrderRepository(store: store)
        let orderId = newOrderId()
        _ = try await history(repository, orderId: orderId, steps: [.updateStatus(.confirmed)])
        let events = try await store.log.events(of: orderId)
        let asOfCreation = try await repository.loader.load(orderId, asOf: events[0].position.time)
        // Both events may share a millisecond; then the fold includes both.
        let expectedVersion = events[1].position.milliseconds == events[0].position.milliseconds ? 2 : 1
        #expect(asOfCreation.version == expectedVersion)
        let before = try await repository.loader.load(orderId, asOf: Timestamp(milliseconds: Int64(events[0].position.milliseconds) - 1))
        #expect(before.version == 0 && before.state == nil)
    }
}

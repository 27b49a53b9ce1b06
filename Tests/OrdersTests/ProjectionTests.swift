import Foundation
@testable import OrdersDomain
@testable import OrdersEventLog
@testable import OrdersWriteSide
@testable import OrdersReadSide
import RedisClient
import Synchronization
import Testing
import TestSupport

/// The writer's last log position, once it has finished (nil while it runs).
final class WriterResult: Sendable {
    let last = Mutex<LogPosition??>(nil)
}

@Suite(.enabled(if: TestRedis.shouldRun))
struct ProjectionTests {
    /// Three instances per projection compete for its lease while commands keep arriving; the one
    /// holding it "crashes" before committing every fifth batch (keeping its lease until it
    /// lapses) and comes back under a new name, and another takes over with the dead one's
    /// pending entries. The read models must end equal to one clean pass, and the summary to a
    /// recount.
    @Test func competingConsumersWithCrashesEndEqualToACleanPass() async throws {
        let store = try await makeStore("compete")
        let result = WriterResult()
        let writer = Task {
            let last = try await randomHistory(store, orders: 40, commands: 400, seed: 7)
            result.last.withLock { $0 = .some(last) }
            return last
        }

        let crashes = try await withThrowingTaskGroup(of: Int.self) { group in
            for worker in 0..<3 {
                group.addTask { try await crashingConsumer(OrderProjection(), store, worker: worker, until: result) }
                group.addTask { try await crashingConsumer(SummaryProjection(), store, worker: worker, until: result) }
            }
            return try await group.reduce(0, +)
        }
        #expect(crashes > 0, "the run must include crashes between reading and committing a batch")
        let last = try await writer.value

        let cleanOrder = Projector(projection: OrderProjection(), log: store.log, generation: 2, settings: quickSettings("clean"))
        let cleanSummary = Projector(projection: SummaryProjection(), log: store.log, generation: 2, settings: quickSettings("clean"))
        try await cleanOrder.createGroup()
        try await cleanSummary.createGroup()
        try await drain(cleanOrder, upTo: last)
        try await drain(cleanSummary, upTo: last)

        for projection in [OrderProjection.name, SummaryProjection.name] {
            let competed = try await dumpReadModel(store, ViewKeys(keys: store.keys, projection: projection, generation: 1))
            let clean = try await dumpReadModel(store, ViewKeys(keys: store.keys, projection: projection, generation: 2))
            #expect(!clean.isEmpty)
            #expect(competed == clean, "the \(projection) read model after crashes differs from a clean pass")
        }
        let recount = try await recountSummary(store, orderView: ViewKeys(keys: store.keys, projection: "order", generation: 1))
        let summary = try await QueryHandler(log: store.log).summary()
        #expect(summary.totalOrders == recount.orders)
        #expect(summary.revenue == recount.revenue)
        for status in OrderStatus.allCases {
            #expect(summary.ordersByStatus[status] == recount.byStatus[status, default: 0], "\(status)")
        }
        let pending = try await store.redis.send("XPENDING", store.keys.log, "view:order:g1")
        #expect(pending.array?.first == .integer(0), "nothing left pending")
    }

    private func crashingConsumer<P: Projection>(_ projection: P, _ store: EventStore, worker: Int,
                                                 until writer: WriterResult) async throws -> Int {
        var restarts = 0
        let deadline = ContinuousClock.now + .seconds(60)
        let crasher = Crasher()
        while ContinuousClock.now < deadline {
            var settings = quickSettings("\(P.name)-\(worker)-\(restarts)")
            settings.crashPoints = crasher.crashPoints { $0 == .beforeCommit && Int.random(in: 0..<5) == 0 }
            let projector = Projector(projection: projection, log: store.log, generation: 1, settings: settings)
            let done = try await crasher.outcome { () async throws -> Bool in
                try await projector.createGroup()
                while ContinuousClock.now < deadline {
                    // A standby instance polls for the lease, as `run` does.
                    if try await projector.step() == 0 && !projector.isActive { try await Task.sleep(for: .milliseconds(20)) }
                    // Done when the writer finished and the group has applied its last event.
                    if let finished = writer.last.withLock({ $0 }) {
                        guard let last = finished else { return true }
                        let passed = try await ProjectionMonitor(log: store.log).hasPassed(last, projection: P.name, generation: 1)
                        if passed { return true }
                    }
                }
                return false
            }
            switch done {
            case true?: return restarts
            case false?: throw DrainTimeout()
            case nil: restarts += 1 // the process died holding its lease; its pending entries wait for the next holder
            }
        }
        throw DrainTimeout()
    }

    @Test func aBatchFoldsEachOrderFromItsOwnStreamAndSkipsWhatTheCheckpointHolds() async throws {
        let store = try await makeStore("stream-fold")
        let handler = CommandHandler(repository: OrderRepository(store: store))
        let created = try await handler.handle(.init(orderId: nil, command: createSample))
        _ = try await handler.handle(.init(orderId: created.orderId, command: .updateStatus(.confirmed)))
        _ = try await handler.handle(.init(orderId: created.orderId, command: .updateStatus(.processing)))
        let projector = Projector(projection: OrderProjection(), log: store.log, settings: quickSettings("fold"))
        try await projector.createGroup()
        #expect(try await projector.acquire())

        let log = Projector<OrderProjection>.entries(ofRange: try await store.redis.send("XRANGE", store.keys.log, "-", "+"), in: store.log)
        #expect(log.count == 3)
        try await projector.process([log[2]]) // the batch ends at v3: the order's stream up to there is folded
        let view = try await QueryHandler(log: store.log).order(created.orderId)
        #expect(view.version == 3 && view.status == .processing)
        #expect(try await ProjectionMonitor(log: store.log).hasPassed(log[2].position, projection: "order", generation: 1))
        let before = try await dumpReadModel(store, projector.view)
        try await projector.process([log[0], log[1]]) // at or below the checkpoint: acknowledged, nothing written
        #expect(try await dumpReadModel(store, projector.view) == before)
    }

    @Test func redeliveryOfAppliedEventsChangesNothing() async throws {
        let store = try await makeStore("redeliver")
        let last = try await randomHistory(store, orders: 15, commands: 120, seed: 11)
        let order = Projector(projection: OrderProjection(), log: store.log, settings: quickSettings("once"))
        let summary = Projector(projection: SummaryProjection(), log: store.log, settings: quickSettings("once"))
        try await order.createGroup()
        try await summary.createGroup()
        try await drain(order, upTo: last)
        try await drain(summary, upTo: last)
        let orderBefore = try await dumpReadModel(store, order.view)
        let summaryBefore = try await dumpReadModel(store, summary.view)

        let range = try await store.redis.send("XRANGE", store.keys.log, "-", "+")
        #expect(try await order.acquire())
        #expect(try await summary.acquire())
        try await order.process(Projector<OrderProjection>.entries(ofRange: range, in: store.log))
        try await summary.process(Projector<SummaryProjection>.entries(ofRange: range, in: store.log).reversed())
        #expect(try await dumpReadModel(store, order.view) == orderBefore)
        #expect(try await dumpReadModel(store, summary.view) == summaryBefore)
    }

    @Test func aProjectorWhoseLeasePassedToAnotherWritesNothing() async throws {
        let store = try await makeStore("fence")
        let last = try await randomHistory(store, orders: 10, commands: 60, seed: 5)
        let stale = Projector(projection: SummaryProjection(), log: store.log, settings: quickSettings("stale"))
        let next = Projector(projection: SummaryProjection(), log: store.log, settings: quickSettings("next"))
        try await stale.createGroup()
        #expect(try await stale.acquire())
        #expect(try await next.step() == 0, "a second instance stands by while the lease is held")
        // The stale holder stalls past its lease (as if paused); the next one takes over and applies everything.
        try await store.redis.send("DEL", stale.view.lease)
        try await drain(next, upTo: last)
        #expect(try await next.acquire())
        let before = try await dumpReadModel(store, stale.view)
        #expect(!before.isEmpty)
        // The stale one wakes up with a batch it read before: its commit is refused.
        let range = try await store.redis.send("XRANGE", store.keys.log, "-", "+")
        try await stale.process(Projector<SummaryProjection>.entries(ofRange: range, in: store.log))
        #expect(!stale.isActive)
        #expect(try await dumpReadModel(store, stale.view) == before)
    }

    @Test func aStandbyInstanceTakesOverWhenTheHolderDiesMidBatch() async throws {
        let store = try await makeStore("takeover")
        let last = try await randomHistory(store, orders: 20, commands: 120, seed: 9)
        var dying = quickSettings("dying")
        let crasher = Crasher()
        dying.crashPoints = crasher.crashPoints { $0 == .beforeCommit }
        let holder = Projector(projection: OrderProjection(), log: store.log, settings: dying)
        try await holder.createGroup()
        #expect(try await crasher.outcome { try await holder.step() } == nil, "it died mid-batch")
        #expect(try await store.redis.send("XPENDING", store.keys.log, holder.group).array?.first?.int ?? 0 > 0,
                "the dead holder's batch is pending")
        // The standby waits for the lease to lapse, claims the pending batch and applies it with the rest.
        let standby = Projector(projection: OrderProjection(), log: store.log, settings: quickSettings("standby"))
        #expect(try await standby.step() == 0)
        try await drain(standby, upTo: last, within: .seconds(20))
        let clean = Projector(projection: OrderProjection(), log: store.log, generation: 2, settings: quickSettings("clean"))
        try await clean.createGroup()
        try await drain(clean, upTo: last)
        #expect(try await dumpReadModel(store, standby.view) == dumpReadModel(store, clean.view))
        #expect(try await store.redis.send("XPENDING", store.keys.log, holder.group).array?.first == .integer(0))
    }

    @Test func theBacklogCountsWhatTheLiveGroupsHaveNotReadYet() async throws {
        let store = try await makeStore("backlog")
        let projector = Projector(projection: OrderProjection(), log: store.log, settings: quickSettings("b"))
        try await projector.createGroup()
        let handler = CommandHandler(repository: OrderRepository(store: store))
        var last: LogPosition?
        for _ in 0..<3 { last = try await handler.handle(.init(orderId: nil, command: createSample)).lastPosition }
        let monitor = ProjectionMonitor(log: store.log)
        #expect(try await monitor.backlog(live: ["order": 1], upTo: 100) == 3)
        try await drain(projector, upTo: last)
        #expect(try await monitor.backlog(live: ["order": 1], upTo: 100) == 0)
        #expect(try await monitor.backlog(live: ["order": 2], upTo: 100) == 0, "a generation with no group has no backlog to count")

        // Redis 7.0 can misestimate a group's read counter after loading its AOF, so that XINFO
        // says the group is far behind while it is at the log's head: the backlog is counted.
        try await store.redis.send("XGROUP", "SETID", store.keys.log, projector.group, last!.description, "ENTRIESREAD", 0)
        let info = try await store.redis.send("XINFO", "GROUPS", store.keys.log).array?.first?.pairs ?? []
        let bogus = info.first { $0.0.string == "lag" }?.1.int
        #expect(bogus == 3, "XINFO now reports a lag that is not there")
        #expect(try await monitor.backlog(live: ["order": 1], upTo: 100) == 0)
        #expect(try await monitor.status(projection: "order", generation: 1).lagEvents == 0)
        for _ in 0..<2 { _ = try await handler.handle(.init(orderId: nil, command: createSample)) }
        #expect(try await monitor.backlog(live: ["order": 1], upTo: 100) == 2)
        #expect(try await monitor.backlog(live: ["order": 1], upTo: 1) == 5, "past its limit the count gives way to XINFO's figure")
    }

    @Test func manyProjectorsRunningAtOnceCountEachEventOnce() async throws {
        let store = try await makeStore("race")
        let last = try await randomHistory(store, orders: 30, commands: 200, seed: 3)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for racer in 0..<8 {
                group.addTask {
                    let projector = Projector(projection: SummaryProjection(), log: store.log, settings: quickSettings("r\(racer)"))
                    try await projector.createGroup()
                    try await drain(projector, upTo: last)
                }
            }
            try await group.waitForAll()
        }
        let clean = Projector(projection: SummaryProjection(), log: store.log, generation: 2, settings: quickSettings("clean"))
        try await clean.createGroup()
        try await drain(clean, upTo: last)
        #expect(try await dumpReadModel(store, ViewKeys(keys: store.keys, projection: "summary", generation: 1))
            == dumpReadModel(store, clean.view))
    }

    @Test func aPoisonEventGoesToTheDeadLetterStreamWhileLaterEventsAreProjected() async throws {
        let store = try await makeStore("poison")
        let handler = CommandHandler(repository: OrderRepository(store: store))
        let poisoned = try await store.append(orderId: newOrderId(), expected: .noStream,
                                              events: [event("OrderExploded", data: "{\"boom\":true}")])
        let later = try await handler.handle(.init(orderId: nil, command: createSample))
        let projector = Projector(projection: OrderProjection(), log: store.log, settings: quickSettings("poison"))
        try await projector.createGroup()

        let deadline = ContinuousClock.now + .seconds(20)
        while try await store.redis.send("XLEN", store.keys.deadLetter).int == 0 {
            guard ContinuousClock.now < deadline else { throw DrainTimeout() }
            try await projector.step()
        }
        try await drain(projector, upTo: later.lastPosition)
        let entries = try await store.redis.send("XRANGE", store.keys.deadLetter, "-", "+").array ?? []
        #expect(entries.count == 1)
        let fields = entries.first?.array?[1].array?.map { $0.string ?? "" } ?? []
        var map: [String: String] = [:]
        for index in stride(from: 0, to: fields.count - 1, by: 2) { map[fields[index]] = fields[index + 1] }
        #expect(map["projection"] == "order")
        #expect(map["logId"] == poisoned.lastPosition.description)
        #expect(Int(map["attempts"] ?? "") == 1, "an event this build cannot read is not retried")
        #expect(map["orderId"] == poisoned.orderId && map["version"] == "1" && map["fromVersion"] == "0")
        #expect(map["error"]?.contains("unknown event type") == true)
        #expect(try await QueryHandler(log: store.log).order(later.orderId).status == .pending)
        #expect(try await ProjectionMonitor(log: store.log).status(projection: "order", generation: 1).deadLettered == 1)
        #expect(try await store.redis.send("XPENDING", store.keys.log, projector.group).array?.first == .integer(0))

        // Listed; re-driving an event this build still cannot read leaves it where it is.
        let letter = try #require(try await DeadLetters(log: store.log).list().first)
        #expect(letter.logId == poisoned.lastPosition.description && letter.projection == "order")
        #expect(try await DeadLetters(log: store.log).redrive(letter, with: OrderProjection(), generation: 1) == false)
        #expect(try await DeadLetters(log: store.log).list().count == 1)
    }

    @Test func anOrderThatCannotBeProjectedIsDeadLetteredAloneAndRedrivenOnceFixed() async throws {
        let store = try await makeStore("redrive")
        let handler = CommandHandler(repository: OrderRepository(store: store))
        let broken = try await handler.handle(.init(orderId: nil, command: createSample))
        let healthy = try await handler.handle(.init(orderId: nil, command: createSample))
        let projector = Projector(projection: OrderProjection(), log: store.log, settings: quickSettings("redrive"))
        try await projector.createGroup()
        // Something outside the service wrote a string where the order's record hash belongs.
        try await store.redis.send("SET", projector.view.record(broken.orderId), "not a hash")

        let deadline = ContinuousClock.now + .seconds(20)
        while try await store.redis.send("XLEN", store.keys.deadLetter).int == 0 {
            guard ContinuousClock.now < deadline else { throw DrainTimeout() }
            try await projector.step()
        }
        let queries = QueryHandler(log: store.log)
        #expect(try await queries.order(healthy.orderId).version == 1, "the other order was projected meanwhile")
        let letters = DeadLetters(log: store.log)
        let letter = try #require(try await letters.list().first)
        #expect(letter.logId == broken.lastPosition.description)

        try await store.redis.send("DEL", projector.view.record(broken.orderId)) // the operator's fix
        #expect(try await letters.redrive(letter, with: OrderProjection(), generation: 1))
        #expect(try await letters.list().isEmpty)
        #expect(try await queries.order(broken.orderId).version == 1)
        #expect(try await ProjectionMonitor(log: store.log).status(projection: "order", generation: 1).deadLettered == 0)
    }

    @Test func minPositionReadsYourWritesAndIsStaleWhenTheProjectorIsStopped() async throws {
        let store = try await makeStore("fresh")
        let handler = CommandHandler(repository: OrderRepository(store: store))
        // Fresh reads get a generous wait (a loaded machine may be slow to project); only the
        // read that must come back stale uses a short one.
        let queries = QueryHandler(log: store.log, freshnessWait: .seconds(15))
        let impatient = QueryHandler(log: store.log, freshnessWait: .milliseconds(300))
        let projector = Projector(projection: OrderProjection(), log: store.log, settings: quickSettings("fresh"))
        try await projector.createGroup()
        let running = Task { await projector.run() }

        let created = try await handler.handle(.init(orderId: nil, command: createSample))
        let view = try await queries.order(created.orderId, minPosition: created.lastPosition)
        #expect(view.version == 1)
        let confirmed = try await handler.handle(.init(orderId: created.orderId, command: .updateStatus(.confirmed)))
        #expect(try await queries.order(created.orderId, minPosition: confirmed.lastPosition).status == .confirmed)

        running.cancel()
        await running.value
        let unseen = try await handler.handle(.init(orderId: nil, command: createSample))
        await #expect(throws: ReadSideError.self) {
            try await impatient.order(unseen.orderId, minPosition: unseen.lastPosition)
        }
    }

    /// A position the log never reached is the client's mistake, refused without waiting; and
    /// waiting queries are bounded: past `maxWaiting` the next is answered stale at once.
    @Test func minPositionPastTheLogIsUnknownAndWaitersAreBounded() async throws {
        let store = try await makeStore("fresh-bounds")
        let handler = CommandHandler(repository: OrderRepository(store: store))
        let created = try await handler.handle(.init(orderId: nil, command: createSample)) // no projector runs
        let queries = QueryHandler(log: store.log, freshnessWait: .seconds(60), maxWaiting: 0)
        var past = created.lastPosition
        past.sequence += 1
        for position in [past, LogPosition(milliseconds: created.lastPosition.milliseconds + 1)] {
            let refused = await #expect(throws: ReadSideError.self) { try await queries.order(created.orderId, minPosition: position) }
            #expect(refused?.code == .unknownPosition)
        }
        // Reached by the log, not yet by the read model, and no room to wait (a 60 s wait would
        // otherwise end the test by its time limit).
        let busy = await #expect(throws: ReadSideError.self) { try await queries.summary(minPosition: created.lastPosition) }
        #expect(busy?.code == .staleRead)
    }
}

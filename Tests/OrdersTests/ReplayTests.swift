import Foundation
@testable import OrdersDomain
@testable import OrdersEventLog
@testable import OrdersWriteSide
@testable import OrdersReadSide
import RedisClient
import Synchronization
import Testing
import TestSupport

@Suite(.enabled(if: TestRedis.shouldRun))
struct ReplayTests {
    /// A store with a random history, projected incrementally into generation 1.
    private func projectedStore(_ label: String, orders: Int = 30, commands: Int = 250, seed: UInt64) async throws
        -> (EventStore, ReplayService) {
        let store = try await makeStore(label)
        try await projectLive(store, upTo: try await randomHistory(store, orders: orders, commands: commands, seed: seed))
        return (store, ReplayService(log: store.log, dropGrace: .milliseconds(50)))
    }

    /// A replay service whose rebuilds wait at the start of their writing phase until the gate opens.
    private func gatedReplay(_ store: EventStore) -> (ReplayService, Gate) {
        let gate = Gate()
        let replay = ReplayService(log: store.log, dropGrace: .milliseconds(50), crashPoints: CrashPoints { point in
            if point == .replayPhase(.writing) { await gate.wait() } // held there, not killed
            return false
        })
        return (replay, gate)
    }

    private func dumps(_ store: EventStore) async throws -> [String: [String: String]] {
        try await liveReadModels(store)
    }

    @Test func aFullRebuildEqualsTheIncrementalModelsAndSwitchesAtomically() async throws {
        let (store, replay) = try await projectedStore("rebuild", seed: 21)
        let before = try await dumps(store)
        let customersBefore = try await QueryHandler(log: store.log).topCustomers(limit: 100)
        try await replay.rebuild(["order", "summary"])
        #expect(try await QueryHandler(log: store.log).topCustomers(limit: 100) == customersBefore, "names and figures alike")
        let live = LiveGenerations(log: store.log)
        let order = try await live.live("order"), summary = try await live.live("summary")
        #expect(order > 1 && summary > 1 && order != summary)
        #expect(try await dumps(store) == before)
        #expect(try await replay.status()?.phase == .done)
        // The old generation is gone, keys and consumer group.
        #expect(try await dumpReadModel(store, ViewKeys(keys: store.keys, projection: "order", generation: 1)).isEmpty)
        let groups = try await store.redis.send("XINFO", "GROUPS", store.keys.log)
        #expect(!"\(groups)".contains("view:order:g1\""))
        let recount = try await recountSummary(store, orderView: ViewKeys(keys: store.keys, projection: "order", generation: order))
        #expect(try await QueryHandler(log: store.log).summary().totalOrders == recount.orders)
    }

    @Test func eventsWrittenDuringARebuildAreCaughtUp() async throws {
        let (store, _) = try await projectedStore("catchup", seed: 5)
        // Pause the rebuild right after its in-memory pass, write more, then let it finish.
        let (replay, gate) = gatedReplay(store)
        let rebuilding = Task { try await replay.rebuild(["order", "summary"]) }
        try await eventually { guard gate.isWaiting else { throw DrainTimeout() } }
        let handler = CommandHandler(repository: OrderRepository(store: store))
        let extra = try await handler.handle(.init(orderId: nil, command: createSample))
        gate.open()
        try await rebuilding.value
        let view = try await QueryHandler(log: store.log).order(extra.orderId)
        #expect(view.version == 1, "the order created during the rebuild is in the new generation")
    }

    /// With the log trimmed behind its groups (`trimmed`), the orders changed since an early
    /// time are found from their streams.
    @Test(arguments: [0.1, 0.5, 0.9], [false, true])
    func replayFromATimeRepairsABuggyProjectionToEqualAFullRebuild(fraction: Double, trimmed: Bool) async throws {
        let (store, replay) = try await projectedStore("from", seed: 31)
        let log = try await store.log.readLog(after: nil, limit: 10_000)
        let cut = log[Int(Double(log.count) * fraction)].position.time
        let touched = Set(log.filter { $0.position.time >= cut }.map(\.orderId))
        #expect(!touched.isEmpty && touched.count < Set(log.map(\.orderId)).count)
        if trimmed {
            #expect(try await LogRetention(log: store.log, window: .zero).trim() > 0)
            if fraction < 0.2 { #expect(try await !store.log.holdsEverything(since: cut)) }
        }

        // A buggy build projected the touched orders' records and indexes wrongly. (The summary
        // holds no per-order state to repair in place: a summary bug is repaired by a rebuild.)
        for orderId in touched {
            try await writeBuggy(orderId, OrderProjection(), store) { state in
                guard var wrong = state?.view else { return state }
                wrong.customerName = "WRONG"
                return .visible(wrong)
            }
        }
        #expect(try await replay.replay(from: cut) == touched.count)
        let repaired = try await dumps(store)
        try await replay.rebuild(["order", "summary"])
        #expect(try await dumps(store) == repaired)
    }

    private func writeBuggy<P: RepairableProjection>(_ orderId: String, _ projection: P, _ store: EventStore,
                                                    _ corrupt: (P.State?) -> P.State?) async throws {
        let view = ViewKeys(keys: store.keys, projection: P.name, generation: 1)
        let state = try projection.parse(try await store.redis.send(projection.readCommand(for: orderId, in: view)))
        var batch = ProjectionBatch()
        projection.write(orderId, from: state, to: corrupt(state), into: &batch, in: view)
        let writes = batch.writes(given: ProjectionBatch.Current())
        let replies = try await store.redis.pipeline(writes.map(\.command))
        #expect(replies.allSatisfy { if case .error = $0 { false } else { true } })
    }

    @Test func oneOrderIsRepairedByItsReplay() async throws {
        let (store, replay) = try await projectedStore("one", seed: 41)
        let orderId = try #require(try await QueryHandler(log: store.log).list(QueryHandler.ListFilter()).orders.first?.orderId)
        let repository = OrderRepository(store: store)
        #expect(try await repository.loader.snapshotNow(orderId) > 0)
        let before = try await dumps(store)
        try await writeBuggy(orderId, OrderProjection(), store) { _ in nil }
        #expect(try await dumps(store) != before)
        try await replay.replay(orderId: orderId)
        #expect(try await dumps(store) == before)
    }

    @Test func queriesKeepAnsweringTheSameOrdersDuringARebuild() async throws {
        let (store, replay) = try await projectedStore("serving", orders: 300, commands: 1500, seed: 51)
        let queries = QueryHandler(log: store.log)
        let expected = try await allOrderIds(queries)
        let summary = try await queries.summary()
        #expect(expected.count > 100)
        let rebuilding = Task { try await replay.rebuild(["order", "summary"]) }
        var checks = 0
        while true {
            #expect(try await allOrderIds(queries) == expected, "no missing or doubled order at any moment")
            #expect(try await queries.summary() == summary)
            checks += 1
            let finished = try await replay.status()?.phase.isFinished ?? false
            if checks >= 3 && finished { break }
        }
        try await rebuilding.value
        #expect(try await allOrderIds(queries) == expected)
        #expect(try await LiveGenerations(log: store.log).live("order") > 1)
    }

    private func allOrderIds(_ queries: QueryHandler) async throws -> [String] {
        var ids: [String] = []
        var cursor: String?
        repeat {
            let page = try await queries.list(QueryHandler.ListFilter(), limit: 1000, cursor: cursor)
            ids += page.orders.map(\.orderId)
            cursor = page.nextCursor
        } while cursor != nil
        return ids
    }

    @Test func aReplayKilledMidwayIsRestartedCleanlyAndEndsCorrect() async throws {
        let (store, _) = try await projectedStore("killed", seed: 61)
        let before = try await dumps(store)
        let crasher = Crasher()
        let crashing = ReplayService(log: store.log, dropGrace: .milliseconds(50),
                                     crashPoints: crasher.crashPoints { $0 == .replayPhase(.catchingUp) })
        #expect(try await crasher.outcome { try await crashing.rebuild(["order", "summary"]) } == nil, "it died")
        let dead = try #require(try await crashing.status())
        #expect(dead.phase == .writing, "the last phase it recorded before it died")
        #expect(try await LiveGenerations(log: store.log).live("order") == 1, "the live generation was never touched")
        let partial = ViewKeys(keys: store.keys, projection: "order", generation: dead.generations[0])
        #expect(!(try await dumpReadModel(store, partial)).isEmpty)

        let replay = ReplayService(log: store.log, dropGrace: .milliseconds(50))
        await #expect(throws: ReadSideError.self) { try await replay.rebuild(["order"]) }
        // Ten seconds without a heartbeat: the process is taken to be dead.
        try await store.redis.send("HSET", replay.statusKey, "heartbeat", Timestamp(milliseconds: Timestamp.now().milliseconds - 11_000).description)
        try await replay.rebuild(["order", "summary"])
        #expect(try await dumps(store) == before)
        #expect(try await dumpReadModel(store, partial).isEmpty, "the dead replay's partial generation was dropped")
    }

    @Test func aCancelledRebuildLeavesTheLiveGenerationAsItWas() async throws {
        let (store, _) = try await projectedStore("cancel", seed: 71)
        let before = try await dumps(store)
        let (replay, gate) = gatedReplay(store)
        let rebuilding = Task { try await replay.rebuild(["order", "summary"]) }
        try await eventually { guard gate.isWaiting else { throw DrainTimeout() } }
        try await replay.cancel()
        gate.open()
        await #expect(throws: ReadSideError(.replayCancelled, "the replay was cancelled")) { try await rebuilding.value }
        let status = try #require(try await replay.status())
        #expect(status.phase == .cancelled)
        #expect(try await LiveGenerations(log: store.log).live("order") == 1)
        #expect(try await dumps(store) == before)
        let partial = ViewKeys(keys: store.keys, projection: "order", generation: status.generations[0])
        #expect(try await dumpReadModel(store, partial).isEmpty, "the partial generation was dropped")
    }

    @Test func aSchemaChangeIsReportedAndARebuildClearsIt() async throws {
        let (store, replay) = try await projectedStore("schema", seed: 81)
        let live = LiveGenerations(log: store.log)
        #expect(try await live.schemaMismatches().isEmpty)
        // As if the live generation had been built by a build with an older order schema.
        try await store.redis.send("HSET", live.key, "order:schema", 0)
        let mismatches = try await live.schemaMismatches()
        #expect(mismatches.map(\.projection) == ["order"] && mismatches.first?.built == 0)
        try await replay.rebuild(mismatches.map(\.projection)) // what `orders serve --auto-rebuild` runs
        #expect(try await live.schemaMismatches().isEmpty)
        #expect(try await live.schema("order") == OrderProjection.schemaVersion)
    }
}

extension ReplayTests {
    @Test func twoReplaysStartedAtOnceRunOnlyOnce() async throws {
        let (store, _) = try await projectedStore("twice", seed: 91)
        let (replay, gate) = gatedReplay(store)
        func attempt() async -> Result<ReplayStatus, any Error> {
            do { return .success(try await replay.start(.rebuild(["order", "summary"]))) } catch { return .failure(error) }
        }
        async let first = attempt()
        async let second = attempt()
        let outcomes = await [first, second]
        let started = outcomes.compactMap { try? $0.get() }
        #expect(started.count == 1, "exactly one claimed the slot")
        let refused = outcomes.compactMap { outcome -> ReadSideError? in
            if case .failure(let error) = outcome { return error as? ReadSideError }
            return nil
        }
        #expect(refused.map(\.code) == [.replayRunning])
        #expect(refused.map { $0.replayId } == started.map { $0.id }, "the other is told which replay runs")
        gate.open()
        try await eventually { guard try await replay.status()?.phase == .done else { throw DrainTimeout() } }
    }

    @Test func aReplayOfAnUnknownOrderIsRefusedAtOnce() async throws {
        let (store, replay) = try await projectedStore("unknown", orders: 3, commands: 5, seed: 3)
        await #expect(throws: ReadSideError(.notFound, "order no-such-order does not exist")) {
            try await replay.start(.order("no-such-order"))
        }
        await #expect(throws: ReadSideError.self) { try await replay.start(.rebuild(["orders"])) }
        #expect(try await replay.status() == nil, "nothing was claimed")
        _ = store
    }

    /// A rebuild that dies after its switch leaves the old generation; the next start finishes it.
    @Test(arguments: [ReplayStatus.Phase.switching, .cleaning])
    func aRebuildKilledAroundItsSwitchLeavesNothingBehind(dyingAt phase: ReplayStatus.Phase) async throws {
        let (store, _) = try await projectedStore("switch", seed: 101)
        let before = try await dumps(store)
        let crasher = Crasher()
        let crashing = ReplayService(log: store.log, dropGrace: .milliseconds(50),
                                     crashPoints: crasher.crashPoints { $0 == .replayPhase(phase) })
        #expect(try await crasher.outcome { try await crashing.rebuild(["order", "summary"]) } == nil, "it died")
        let dead = try #require(try await crashing.status())
        let switched = try await LiveGenerations(log: store.log).live("order") == dead.generations[0]
        #expect(switched == (phase == .cleaning))
        // What is not live any more (the old generation, or the partial new one) is still there.
        let leftover = ViewKeys(keys: store.keys, projection: "order", generation: switched ? dead.replaced[0] : dead.generations[0])
        #expect(!(try await dumpReadModel(store, leftover)).isEmpty)

        // A service starting later finds the replay abandoned (no heartbeat for 10 s) and finishes it.
        try await store.redis.send("HSET", crashing.statusKey, "heartbeat", Timestamp(milliseconds: Timestamp.now().milliseconds - 11_000).description)
        await ReplayService(log: store.log, dropGrace: .milliseconds(50)).recoverAbandoned()
        #expect(try await dumpReadModel(store, leftover).isEmpty, "the leftover generation was dropped")
        #expect(try await dumps(store) == before)
        #expect(try await crashing.status()?.phase == .done)
    }

    @Test func aCancelAfterTheSwitchIsTooLateAndTheRebuildFinishes() async throws {
        let (store, _) = try await projectedStore("late-cancel", seed: 111)
        let before = try await dumps(store)
        let gate = Gate()
        let replay = ReplayService(log: store.log, dropGrace: .milliseconds(50), crashPoints: CrashPoints { point in
            if point == .replayPhase(.cleaning) { await gate.wait() } // held there, not killed
            return false
        })
        let rebuilding = Task { try await replay.rebuild(["order", "summary"]) }
        try await eventually { guard gate.isWaiting else { throw DrainTimeout() } }
        try await replay.cancel()
        gate.open()
        try await rebuilding.value
        let status = try #require(try await replay.status())
        #expect(status.phase == .done)
        #expect(try await dumpReadModel(store, ViewKeys(keys: store.keys, projection: "order", generation: status.replaced[0])).isEmpty)
        #expect(try await dumps(store) == before)
    }
}

/// Lets a test hold a replay at a point and release it.
final class Gate: Sendable {
    private let state = Mutex((waiting: false, opened: false))

    func wait() async {
        state.withLock { $0.waiting = true }
        while !state.withLock({ $0.opened }) { try? await Task.sleep(for: .milliseconds(5)) }
    }

    var isWaiting: Bool { state.withLock { $0.waiting } }
    func open() { state.withLock { $0.opened = true } }
}

protocol Drainable {
    func drainAll(upTo position: LogPosition?) async throws
}

extension Projector: Drainable {
    func drainAll(upTo position: LogPosition?) async throws {
        try await createGroup()
        try await drain(self, upTo: position)
    }
}

import Foundation
@testable import OrdersDomain
@testable import OrdersEventLog
@testable import OrdersWriteSide
@testable import OrdersReadSide
import RedisClient
import Testing
import TestSupport

/// Replays of a store of four partitions: every partition rebuilt, re-projected from a time or
/// for one order, and what each leaves equals what the live projectors built. (`Scripts/test`
/// runs this on the cluster too.)
@Suite(.enabled(if: TestRedis.shouldRun))
struct PartitionedReplayTests {
    /// A store of four partitions with a random history, projected live in every partition.
    func projectedStore() async throws -> EventStore {
        let store = try await makePartitionedStore("replay4", partitions: 4)
        var generator = SeededGenerator(seed: 41)
        let handler = CommandHandler(repository: OrderRepository(store: store))
        var ids: [String] = []
        for index in 0..<120 {
            let roll = Int.random(in: 0..<100, using: &generator)
            let request: CommandHandler.Request
            if ids.isEmpty || roll < 30 {
                request = .init(orderId: nil, command: .create(customerName: "Customer \(index % 7)", customerEmail: "c\(index % 7)@example.com",
                                                               items: randomItems(using: &generator)))
            } else {
                request = .init(orderId: ids.randomElement(using: &generator)!, command: randomChange(roll, using: &generator))
            }
            guard let result = try await handledUnlessRefused(handler, request) else { continue }
            if case .create = request.command { ids.append(result.orderId) }
        }
        for log in store.logs.partitions { try await projectLive(log, upTo: try await log.lastPosition()) }
        return store
    }

    /// Every partition's live read models (by partition and projection).
    func liveModels(_ store: EventStore) async throws -> [String: [String: String]] {
        var models: [String: [String: String]] = [:]
        for log in store.logs.partitions {
            let live = LiveGenerations(log: log)
            for name in ["order", "summary"] {
                models["\(log.keys.partition):\(name)"] = try await dumpReadModel(store, ViewKeys(keys: log.keys, projection: name,
                                                                                                   generation: try await live.live(name)))
            }
        }
        return models
    }

    @Test func everyPartitionIsRebuiltAndReplayedAsLive() async throws {
        let store = try await projectedStore()
        let live = try await liveModels(store)
        #expect(live.values.filter { !$0.isEmpty }.count == 8, "every partition holds orders and a summary")
        let replay = PartitionedReplay(logs: store.logs, dropGrace: .zero)

        try await replay.rebuild(["order", "summary"])
        #expect(try await liveModels(store) == live)
        for log in store.logs.partitions {
            #expect(try await LiveGenerations(log: log).live("order") == 2, "partition \(log.keys.partition) switched to its rebuild")
        }

        let orders = try await replay.replay(from: Timestamp(milliseconds: 0))
        #expect(orders > 0)
        #expect(try await liveModels(store) == live)

        // One order's record lost in its partition: replaying that order writes it again there.
        let partition = store.logs.partitions.first { !(live["\($0.keys.partition):order"] ?? [:]).isEmpty }!
        let view = ViewKeys(keys: partition.keys, projection: "order", generation: 2)
        let orderId = String(live["\(partition.keys.partition):order"]!.keys.first { $0.hasPrefix("record:") }!.dropFirst("record:".count))
        try await store.redis.send("DEL", view.record(orderId))
        #expect(try await liveModels(store) != live)
        try await replay.replay(orderId: orderId)
        #expect(try await liveModels(store) == live)
    }

    @Test func aReplayStartedInTheBackgroundReportsEveryPartition() async throws {
        let store = try await projectedStore()
        let replay = PartitionedReplay(logs: store.logs, dropGrace: .zero)
        let started = try await replay.start(.rebuild(["order", "summary"]))
        #expect(started.kind == "rebuild")
        let finished = try await eventually(within: .seconds(60)) {
            guard let status = try await replay.status(), status.phase == .done else { throw CancellationError() }
            return status
        }
        let appended = try await store.logs.partitions.asyncMap { try await $0.appendedEvents() }.reduce(0, +)
        #expect(finished.done == appended && finished.total == appended, "events of every partition counted")
        // Another replay cannot start while one runs anywhere; after it has finished, one can.
        #expect(try await replay.start(.from(Timestamp(milliseconds: 0))).kind == "from")
        _ = try await eventually(within: .seconds(60)) {
            guard let status = try await replay.status(), status.kind == "from", status.phase == .done else { throw CancellationError() }
            return status
        }
    }
}

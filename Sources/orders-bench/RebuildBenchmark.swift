import Foundation
import OrdersDomain
import OrdersEventLog
import OrdersWriteSide
import OrdersReadSide
import RedisClient

/// Full-rebuild throughput: fills the log with five-event orders up to `events` (if it holds
/// fewer), then times `ReplayService.rebuild` of both projections (fold in memory, write, catch up,
/// switch, drop the old generation) and reports log events per second.
struct RebuildBenchmark {
    let redis: RedisClient
    let events: Int

    func run() async throws -> [String: Double] {
        try await FunctionLibrary.ensureLoaded(on: redis)
        let store = EventStore(redis: redis, keys: KeySchema(namespace: "bench"))
        let present = try await redis.send("XLEN", store.keys.log).int ?? 0
        if present < events {
            _ = try await MemoryBenchmark(redis: redis, orders: (events - present) / 5, commandIds: false).run()
        }
        let logEvents = try await redis.send("XLEN", store.keys.log).int ?? 0
        let replay = ReplayService(log: store.log, dropGrace: .zero)
        let started = ContinuousClock.now
        try await replay.rebuild([OrderProjection.name, SummaryProjection.name])
        let seconds = (ContinuousClock.now - started).seconds
        return ["events": Double(logEvents), "seconds": seconds, "eventsPerSecond": Double(logEvents) / seconds]
    }
}

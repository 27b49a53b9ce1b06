import Foundation
import OrdersDomain
import OrdersEventLog
import OrdersWriteSide
import OrdersReadSide
import RedisClient

/// Full-rebuild throughput: fills the log with five-event orders up to `events` (if it holds
/// fewer), then times a rebuild of both projections (fold in memory, write, catch up, switch) until
/// the new generations are live, as `orders replay` returns, and reports log events per second;
/// dropping the replaced generations, which goes on in the background, is reported apart.
struct RebuildBenchmark {
    let redis: RedisClient
    let events: Int

    func run() async throws -> [String: Double] {
        try await FunctionLibrary.ensureLoaded(on: redis)
        let store = EventStore(redis: redis, keys: KeySchema(namespace: "bench"))
        let present = try await store.log.appendedEvents()
        if present < events {
            _ = try await MemoryBenchmark(redis: redis, orders: (events - present) / 5, commandIds: false).run()
        }
        let logEvents = try await store.log.appendedEvents()
        let replay = ReplayService(log: store.log, dropGrace: .zero)
        let started = ContinuousClock.now
        let id = try await replay.start(.rebuild([OrderProjection.name, SummaryProjection.name])).id
        var live: Duration?
        while true {
            guard let status = try await replay.status(), status.id == id else { throw BenchmarkError("the rebuild's status is gone") }
            if status.phase.isLive && live == nil { live = ContinuousClock.now - started }
            if status.phase.isFinished {
                guard status.phase == .done else { throw BenchmarkError("the rebuild ended \(status.phase.rawValue)") }
                break
            }
            try await Task.sleep(for: .milliseconds(live == nil ? 2 : 20))
        }
        let seconds = live!.seconds
        return ["events": Double(logEvents), "seconds": seconds, "eventsPerSecond": Double(logEvents) / seconds,
                "secondsUntilDropped": (ContinuousClock.now - started).seconds]
    }
}

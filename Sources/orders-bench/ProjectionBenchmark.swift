import Foundation
import OrdersDomain
import OrdersEventLog
import OrdersWriteSide
import OrdersReadSide
import RedisClient

/// Measures how fast one instance projects: writes `orders` five-event orders (unless the log
/// already holds events), then drains the whole log into a fresh generation of each projection,
/// both projectors running at once as `orders serve` runs them, and reports events per second.
struct ProjectionBenchmark {
    let redis: RedisClient
    let orders: Int

    func run() async throws -> [String: Double] {
        try await FunctionLibrary.ensureLoaded(on: redis)
        let store = EventStore(redis: redis, keys: KeySchema(namespace: "bench"))
        if try await store.log.lastPosition() == nil {
            _ = try await MemoryBenchmark(redis: redis, orders: orders, commandIds: false).run()
        }
        guard let last = try await store.log.lastPosition() else { throw BenchmarkError("nothing to project") }
        let events = try await store.log.appendedEvents()
        let generation = Int(Timestamp.now().milliseconds % 1_000_000) + 10 // a fresh generation per run
        let settings = ProjectorSettings(consumer: "bench", batchSize: 1000, block: .milliseconds(50))
        let order = Projector(projection: OrderProjection(), log: store.log, generation: generation, settings: settings)
        let summary = Projector(projection: SummaryProjection(), log: store.log, generation: generation, settings: settings)
        try await order.createGroup()
        try await summary.createGroup()
        let monitor = ProjectionMonitor(log: store.log)

        let started = ContinuousClock.now
        async let orderDone: Void = drain(order, monitor, last)
        async let summaryDone: Void = drain(summary, monitor, last)
        _ = try await (orderDone, summaryDone)
        let seconds = (ContinuousClock.now - started).seconds
        return ["events": Double(events), "seconds": seconds, "eventsPerSecond": Double(events) / seconds]
    }

    private func drain<P: Projection>(_ projector: Projector<P>, _ monitor: ProjectionMonitor, _ last: LogPosition) async throws {
        while true {
            if try await projector.step() == 0,
               try await monitor.hasPassed(last, projection: P.name, generation: projector.view.generation) { return }
        }
    }
}


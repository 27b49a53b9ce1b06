import Foundation
import OrdersDomain
import OrdersEventLog
import OrdersWriteSide
import OrdersReadSide
import RedisClient

/// Projection lag under a steady write rate: both projectors run in this process (as in
/// `orders serve`), a paced writer creates orders and moves them through their statuses at
/// `rate` commands per second for `duration`, and every 50 ms the age of the oldest event not yet
/// applied is sampled for each projection. Reports p50/p99/max lag in ms, and how long the
/// projectors take to drain after the writes stop.
struct LagBenchmark {
    let redis: RedisClient
    let rate: Int
    let duration: Duration

    func run() async throws -> [String: Double] {
        try await FunctionLibrary.ensureLoaded(on: redis)
        let store = EventStore(redis: redis, keys: KeySchema(namespace: "lag-\(Timestamp.now().milliseconds)"))
        let handler = CommandHandler(repository: OrderRepository(store: store))
        let settings = ProjectorSettings(consumer: "bench", block: .milliseconds(100))
        let group = ProjectorGroup(projections: Projections.standard, generations: [:], log: store.log, settings: settings)
        let projectors = [Task { await group.run() }]
        defer { projectors.forEach { $0.cancel() } }
        let monitor = ProjectionMonitor(log: store.log)

        let sampler = Task { () -> [Double] in
            var samples: [Double] = []
            while !Task.isCancelled {
                for name in [OrderProjection.name, SummaryProjection.name] {
                    if let status = try? await monitor.status(projection: name, generation: 1) {
                        samples.append(Double(status.lagMilliseconds))
                    }
                }
                try? await Task.sleep(for: .milliseconds(50))
            }
            return samples
        }

        let written = try await PacedWriter(handler: handler, rate: rate, duration: duration).run()
        let stopped = ContinuousClock.now
        guard let last = try await store.log.lastPosition() else { throw BenchmarkError("nothing written") }
        for name in [OrderProjection.name, SummaryProjection.name] {
            while try await !monitor.hasPassed(last, projection: name, generation: 1) {
                try await Task.sleep(for: .milliseconds(5))
            }
        }
        let drain = (ContinuousClock.now - stopped).seconds * 1000
        sampler.cancel()
        let samples = await sampler.value.sorted()
        func percentile(_ p: Double) -> Double { samples.isEmpty ? 0 : samples[min(samples.count - 1, Int(Double(samples.count) * p))] }
        return ["rate": Double(rate), "commands": Double(written.commands), "achievedRate": written.achievedRate,
                "lagP50Ms": percentile(0.5), "lagP99Ms": percentile(0.99), "lagMaxMs": samples.last ?? 0, "drainMs": drain]
    }
}

/// Sends commands at a fixed rate from 32 concurrent workers: each order is created, then
/// confirmed, processed, shipped and delivered (5 commands).
struct PacedWriter {
    let handler: CommandHandler
    let rate: Int
    let duration: Duration

    func run() async throws -> (commands: Int, achievedRate: Double) {
        let workers = 32
        let interval = Duration.seconds(Double(workers) / Double(rate))
        let started = ContinuousClock.now
        let end = started + duration
        let total = try await withThrowingTaskGroup(of: Int.self) { group in
            for worker in 0..<workers {
                group.addTask {
                    var sent = 0
                    var next = started + interval * (Double(worker) / Double(workers))
                    var orderId: String?
                    var step = 0
                    while next < end && ContinuousClock.now < end { // a writer behind schedule stops on time too
                        try await Task.sleep(until: next)
                        next += interval
                        let statuses: [OrderStatus] = [.confirmed, .processing, .shipped, .delivered]
                        if let id = orderId, step < statuses.count {
                            _ = try await handler.handle(.init(orderId: id, command: .updateStatus(statuses[step])))
                            step += 1
                        } else {
                            let result = try await handler.handle(.init(orderId: nil, command: .create(
                                customerName: "Customer \(worker)", customerEmail: "c\(worker)@example.com",
                                items: [OrderItem(sku: "SKU-1", name: "Blue mug", quantity: 2, unitPrice: Money(cents: 999))])))
                            orderId = result.orderId
                            step = 0
                        }
                        sent += 1
                    }
                    return sent
                }
            }
            return try await group.reduce(0, +)
        }
        return (total, Double(total) / (ContinuousClock.now - started).seconds)
    }
}

import Foundation
import OrdersDomain
import OrdersEventLog
import OrdersWriteSide
import OrdersReadSide
import OrdersAPI

/// Suite 6: a full rebuild of a log of `orders` five-event orders (100,000 events by default),
/// started through the API, while a client keeps querying. Every answer during the rebuild and
/// across the switch must show every order exactly once: the summary counts all of them, and any
/// order fetched is there.
public struct RebuildUnderQueriesSuite: Sendable {
    public var orders: Int
    public var writers: Int

    public init(orders: Int = 20_000, writers: Int = 32) {
        self.orders = orders
        self.writers = writers
    }

    public func run(_ environment: SoakEnvironment) async throws -> SuiteReport {
        var report = SuiteReport(suite: "6 rebuild under queries")
        let started = ContinuousClock.now
        let namespace = environment.namespace("rebuild")
        let store = environment.store(namespace)
        try await FunctionLibrary.ensureLoaded(on: environment.redis)
        let orderIds = try await fill(OrderRepository(store: store))
        let service = try environment.service(namespace)
        try await service.start()
        defer { service.kill() }
        try await StoreAudit(store: store).converge(within: .seconds(180))
        let events = try await store.log.appendedEvents()

        let port = service.port
        let expected = orderIds.count
        let outcome = try await onThreads(1) { _ -> (queries: Int, wrong: [String], phases: [String], rebuild: Duration) in
            let client = try OrdersClient(port: port, timeout: .seconds(30))
            let begun = ContinuousClock.now
            _ = try client.call("replay", ["projection": "all"])
            var queries = 0
            var wrong: [String] = []
            var phases: [String] = []
            var random = SeededGenerator(seed: 6)
            while ContinuousClock.now - begun < .seconds(300) {
                let total = (try client.call("summary") as? [String: Any])?["totalOrders"] as? Int
                if total != expected { wrong.append("summary counted \(total.map(String.init) ?? "nothing") orders of \(expected)") }
                let orderId = orderIds.randomElement(using: &random)!
                if (try? client.call("getOrder", ["orderId": orderId])) == nil { wrong.append("order \(orderId) was missing") }
                queries += 2
                let phase = (try client.call("replayStatus") as? [String: Any])?["phase"] as? String ?? "none"
                if phases.last != phase { phases.append(phase) }
                if ["done", "failed", "cancelled"].contains(phase) { break }
            }
            return (queries, Array(wrong.prefix(5)), phases, ContinuousClock.now - begun)
        }[0]
        report.sent = outcome.queries
        report.acknowledged = outcome.queries - outcome.wrong.count
        report.failures += outcome.wrong
        if outcome.phases.last != "done" { report.failures.append("the rebuild ended \(outcome.phases.last ?? "nowhere")") }
        let live = try await LiveGenerations(log: store.log).live(Projections.standard.names)
        if live.values.contains(1) { report.failures.append("the live pointer did not move to the new generations") }
        report.notes.append("\(events) events, rebuilt in \(Int(outcome.rebuild.seconds)) s while \(outcome.queries) queries were answered; phases seen: \(outcome.phases.joined(separator: " → "))")
        report.seconds = (ContinuousClock.now - started).seconds
        return report
    }

    /// Writes the orders in process (create and four status changes each), `writers` at a time.
    private func fill(_ repository: OrderRepository) async throws -> [String] {
        try await withThrowingTaskGroup(of: [String].self) { group in
            for writer in 0..<writers {
                group.addTask { [orders, writers] in
                    var ids: [String] = []
                    for index in stride(from: writer, to: orders, by: writers) {
                        var aggregate = OrderAggregate(orderId: UUID().uuidString.lowercased())
                        let commands: [OrderCommand] = [
                            .create(customerName: "Rebuild \(index % 500)", customerEmail: "rebuild\(index % 500)@example.com",
                                    items: [OrderItem(sku: "R-\(index % 50)", name: "Rebuild item", quantity: 1, unitPrice: Money(cents: 1234))]),
                            .updateStatus(.confirmed), .updateStatus(.processing), .updateStatus(.shipped), .updateStatus(.delivered),
                        ]
                        for command in commands {
                            (_, aggregate) = try await repository.save(aggregate, events: try aggregate.decide(command),
                                                                       expected: .exactly(aggregate.version),
                                                                       metadata: EventMetadata(), at: .now())
                        }
                        ids.append(aggregate.orderId)
                    }
                    return ids
                }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
    }
}

import Foundation
@testable import OrdersDomain
@testable import OrdersEventLog
@testable import OrdersWriteSide
@testable import OrdersReadSide
import RedisClient
import TestSupport

/// Runs random commands over `orders` orders through the real command handler; returns the
/// log position of the last event.
@discardableResult
func randomHistory(_ store: EventStore, orders: Int, commands: Int, seed: UInt64) async throws -> LogPosition? {
    var generator = SeededGenerator(seed: seed)
    let handler = CommandHandler(repository: OrderRepository(store: store))
    var ids: [String] = []
    var last: LogPosition?
    let customers = [("Ann Lee", "ann@example.com"), ("Bob Stone", "bob@example.com"), ("Cy Twombly", "cy@example.org")]
    for _ in 0..<commands {
        let roll = Int.random(in: 0..<100, using: &generator)
        let request: CommandHandler.Request
        if ids.count < orders && (ids.isEmpty || roll < 30) {
            var customer = customers.randomElement(using: &generator)!
            // The same customer under another name now and then: names follow the newest order.
            if Int.random(in: 0..<3, using: &generator) == 0 { customer.0 += " \(ids.count)" }
            request = .init(orderId: nil, command: .create(customerName: customer.0, customerEmail: customer.1,
                                                           items: randomItems(using: &generator)))
        } else {
            request = .init(orderId: ids.randomElement(using: &generator)!, command: randomChange(roll, using: &generator))
        }
        // A refused command writes nothing; refusals are part of a random history.
        guard let result = try await handledUnlessRefused(handler, request) else { continue }
        if case .create = request.command { ids.append(result.orderId) }
        last = result.lastPosition
    }
    return last
}

/// One to three items of the three products, random quantities and prices.
func randomItems(using generator: inout SeededGenerator) -> [OrderItem] {
    (0..<Int.random(in: 1...3, using: &generator)).map { n in
        OrderItem(sku: "SKU-\(n)", name: ["Blue mug", "Green tea", "Desk lamp"][n],
                  quantity: Int.random(in: 1...5, using: &generator),
                  unitPrice: Money(cents: Int64.random(in: 0...10_000, using: &generator)))
    }
}

/// A change to an existing order for a roll of 30-99: mostly a status (any, valid or not),
/// sometimes a cancel, now and then a delete.
func randomChange(_ roll: Int, using generator: inout SeededGenerator) -> OrderCommand {
    roll < 75 ? .updateStatus(OrderStatus.allCases.randomElement(using: &generator)!)
        : roll < 90 ? .cancel(reason: "reason \(roll)") : .delete
}

/// The command's result, or nil when the domain refused it; storage errors are thrown.
func handledUnlessRefused(_ handler: CommandHandler, _ request: CommandHandler.Request) async throws -> AppendResult? {
    do {
        return try await handler.handle(request)
    } catch {
        if case .domain = error { return nil }
        throw error
    }
}

/// Recounts the summary from the order read model's records (not from the summary's own keys).
func recountSummary(_ store: EventStore, orderView: ViewKeys) async throws -> (orders: Int, revenue: Money, byStatus: [OrderStatus: Int]) {
    let ids = try await store.redis.send("ZRANGE", orderView.byCreated, 0, -1).array?.compactMap(\.string) ?? []
    var revenue = Money.zero
    var byStatus: [OrderStatus: Int] = [:]
    for id in ids {
        guard let doc = try await store.redis.send("HGET", orderView.record(id), "doc").bytes else { continue }
        let view = try OrderProjection.decode(doc)
        byStatus[view.status, default: 0] += 1
        if view.status != .cancelled { revenue += view.total }
    }
    return (ids.count, revenue, byStatus)
}


/// Steps a projector until its generation has applied everything up to `position` (standing by
/// while another instance holds the lease, polling as `run` does), then lets its lease go (so
/// the next projector of the generation, in the test, takes over at once).
func drain<P: Projection>(_ projector: Projector<P>, upTo position: LogPosition?, within limit: Duration = .seconds(30)) async throws {
    guard let position else { return }
    let monitor = ProjectionMonitor(log: projector.log)
    let deadline = ContinuousClock.now + limit
    while try await !monitor.hasPassed(position, projection: P.name, generation: projector.view.generation) {
        guard ContinuousClock.now < deadline else { throw DrainTimeout() }
        if try await projector.step() == 0 && !projector.isActive { try await Task.sleep(for: .milliseconds(20)) }
    }
    await projector.release()
}

struct DrainTimeout: Error {}

func quickSettings(_ consumer: String) -> ProjectorSettings {
    ProjectorSettings(consumer: consumer, batchSize: 50, block: .milliseconds(20), lease: .seconds(2))
}

/// Projects everything up to `last` into generation 1 of both projections, as live projectors
/// would, and records the schemas that generation was built with.
func projectLive(_ store: EventStore, upTo last: LogPosition?) async throws {
    try await projectLive(store.log, upTo: last)
}

/// The same for one partition's log.
func projectLive(_ log: EventLog, upTo last: LogPosition?) async throws {
    for projector in [Projector(projection: OrderProjection(), log: log, settings: quickSettings("live")) as any Drainable,
                      Projector(projection: SummaryProjection(), log: log, settings: quickSettings("live"))] {
        try await projector.drainAll(upTo: last)
    }
    try await LiveGenerations(log: log).initialize([("order", OrderProjection.schemaVersion),
                                                  ("summary", SummaryProjection.schemaVersion)])
}

/// Every key of the live generation of both read models, by projection (see `dumpReadModel`).
func liveReadModels(_ store: EventStore) async throws -> [String: [String: String]] {
    let live = LiveGenerations(log: store.log)
    var result: [String: [String: String]] = [:]
    for name in ["order", "summary"] {
        result[name] = try await dumpReadModel(store, ViewKeys(keys: store.keys, projection: name, generation: try await live.live(name)))
    }
    return result
}

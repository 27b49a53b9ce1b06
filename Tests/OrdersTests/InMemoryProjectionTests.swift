@testable import OrdersDomain
@testable import OrdersEventLog
@testable import OrdersWriteSide
@testable import OrdersReadSide
import Synchronization
import Testing
import TestSupport

/// Projection rules without Redis: a pure random history published on the in-memory bus.
@Suite struct InMemoryProjectionTests {
    let view = ViewKeys(keys: KeySchema(namespace: "unit"), projection: "summary", generation: 1)
    let orderView = ViewKeys(keys: KeySchema(namespace: "unit"), projection: "order", generation: 1)

    /// Events of random orders, decided by the real aggregate, with versions and positions.
    func history(seed: UInt64, orders: Int, commands: Int) -> [RecordedEvent] {
        var generator = SeededGenerator(seed: seed)
        var aggregates: [OrderAggregate] = []
        var events: [RecordedEvent] = []
        var clock: Int64 = 1_795_340_800_000
        for _ in 0..<commands {
            clock += Int64.random(in: 1...40_000_000, using: &generator) // spans several days
            let index: Int
            let command: OrderCommand
            if aggregates.count < orders && (aggregates.isEmpty || Int.random(in: 0..<3, using: &generator) == 0) {
                aggregates.append(OrderAggregate(orderId: "o\(aggregates.count)"))
                index = aggregates.count - 1
                let email = ["ann@x.io", "bob@x.io", "cy@x.io"].randomElement(using: &generator)!
                command = .create(customerName: email.uppercased(), customerEmail: email, items: [
                    OrderItem(sku: "S", name: "Mug", quantity: Int.random(in: 1...4, using: &generator),
                              unitPrice: Money(cents: Int64.random(in: 0...5000, using: &generator)))])
            } else {
                index = Int.random(in: 0..<aggregates.count, using: &generator)
                let roll = Int.random(in: 0..<10, using: &generator)
                command = roll < 7 ? .updateStatus(OrderStatus.allCases.randomElement(using: &generator)!)
                    : roll < 9 ? .cancel(reason: nil) : .delete
            }
            guard let decided = try? aggregates[index].decide(command) else { continue }
            for event in decided {
                aggregates[index].apply(event, at: Timestamp(milliseconds: clock))
                events.append(RecordedEvent(orderId: aggregates[index].orderId, type: event.type, version: aggregates[index].version,
                                            eventId: "e\(events.count)", occurredAt: Timestamp(milliseconds: clock),
                                            data: OrderEventCoding.encode(event), meta: "{}",
                                            position: LogPosition(milliseconds: UInt64(clock))))
            }
        }
        return events
    }

    func projector<P: Projection>(_ projection: P, _ view: ViewKeys, _ events: [RecordedEvent]) -> InMemoryProjection<P> {
        InMemoryProjection(projection, view: view) { orderId in events.filter { $0.orderId == orderId } }
    }

    @Test(arguments: [1, 2, 3, 4, 5] as [UInt64])
    func summaryEqualsARecountOfTheOrderViews(seed: UInt64) {
        let events = history(seed: seed, orders: 25, commands: 300)
        let bus = InMemoryEventBus()
        let summary = projector(SummaryProjection(), view, events)
        let orders = projector(OrderProjection(), orderView, events)
        summary.subscribe(to: bus)
        orders.subscribe(to: bus)
        for batch in stride(from: 0, to: events.count, by: 17) { bus.publish(Array(events[batch..<min(batch + 17, events.count)])) }

        let visible = orders.snapshot.orders.values.compactMap { $0.state?.view }
        let totals = summary.snapshot.model.hashes[view.totals] ?? [:]
        #expect(Int(totals["orders"] ?? "0") == visible.count)
        let revenue = visible.filter { $0.status != .cancelled }.reduce(Money.zero) { $0 + $1.total }
        #expect(Int64(totals["revenue"] ?? "0") == revenue.cents)
        for status in OrderStatus.allCases {
            #expect(Int(totals["status:" + status.rawValue] ?? "0") == visible.filter { $0.status == status }.count)
        }
        var perDay: [String: Int] = [:]
        for order in visible { perDay[order.createdAt.day, default: 0] += 1 }
        let days = summary.snapshot.model.hashes[view.days] ?? [:]
        for (day, count) in perDay { #expect(Int(days["orders:" + day] ?? "0") == count) }
        let counts = summary.snapshot.model.sortedSets[view.customersByCount] ?? [:]
        #expect(counts.values.reduce(0, +) == Double(visible.count))
    }

    @Test func shuffledDuplicatedDeliveryEndsLikeInOrderDelivery() {
        let events = history(seed: 9, orders: 20, commands: 250)
        let inOrder = projector(SummaryProjection(), view, events)
        inOrder.apply(events)
        var generator = SeededGenerator(seed: 99)
        let shuffled = projector(SummaryProjection(), view, events)
        shuffled.apply((events + events.prefix(100)).shuffled(using: &generator))
        #expect(shuffled.snapshot.model == inOrder.snapshot.model)

        let ordersInOrder = projector(OrderProjection(), orderView, events)
        ordersInOrder.apply(events)
        let ordersShuffled = projector(OrderProjection(), orderView, events)
        ordersShuffled.apply((events + events).shuffled(using: &generator))
        #expect(ordersShuffled.snapshot.model == ordersInOrder.snapshot.model)
    }

    @Test func deletedOrdersLeaveEveryIndex() {
        let created = RecordedEvent(orderId: "o1", type: OrderCreated.type, version: 1, eventId: "e1",
                                    occurredAt: Timestamp(milliseconds: 1000),
                                    data: OrderEventCoding.encode(.created(OrderCreated(customerName: "Ann", customerEmail: "a@x.io", items: [
                                        OrderItem(sku: "MUG-1", name: "Blue mug", quantity: 1, unitPrice: Money(cents: 999))]))),
                                    meta: "{}", position: LogPosition(milliseconds: 1000))
        var deleted = created
        deleted.type = OrderDeleted.type
        deleted.version = 2
        deleted.data = "{}"
        let projection = projector(OrderProjection(), orderView, [created, deleted])
        projection.apply([created])
        #expect(projection.snapshot.model.sets[orderView.word("mug")] == ["o1"])
        #expect(projection.snapshot.model.sets[orderView.word("blue")] == ["o1"])
        #expect(projection.snapshot.model.sortedSets[orderView.words]?.keys.contains("mug") == true)
        #expect(projection.snapshot.model.sets[orderView.word("blue mug")] == nil,
                "words only: a query word can never match more of a whole text than its first word")
        projection.apply([deleted])
        #expect(projection.snapshot.model.sortedSets.keys.sorted() == [orderView.words],
                "no index mentions a deleted order; its words stay listed")
        #expect(projection.snapshot.model.sets[orderView.word("mug")] == ["o1"],
                "word sets keep a deleted order (search finds no record for it), so they only grow")
        #expect(projection.snapshot.model.hashes.isEmpty, "the record is gone: the checkpoint, not a tombstone, keeps it gone")
        #expect(projection.snapshot.orders["o1"]?.version == 2)
    }
}

import OrdersDomain
import OrdersEventLog

/// Loads orders (`OrderLoader`) and saves the events commands decide, taking a snapshot each
/// time an order's version crosses a multiple of `snapshotEvery`.
public final class OrderRepository: Sendable {
    public let store: EventStore
    public let loader: OrderLoader
    /// Take a snapshot each time an order's version crosses a multiple of this.
    public let snapshotEvery: Int

    public init(store: EventStore, snapshotEvery: Int = 100) {
        precondition(snapshotEvery >= 1)
        self.store = store
        self.loader = OrderLoader(logs: store.logs)
        self.snapshotEvery = snapshotEvery
    }

    /// The order as of its latest event (a fresh, empty aggregate when it has none).
    public func load(_ orderId: String, useSnapshot: Bool = true) async throws -> OrderAggregate {
        try await loader.load(orderId, useSnapshot: useSnapshot)
    }

    /// Decides `command` against `aggregate`, appends the events, and snapshots when due.
    /// Returns the append's result and the aggregate after it.
    public func save(_ aggregate: OrderAggregate, events: [OrderEvent], expected: ExpectedVersion,
                     metadata: EventMetadata, at time: Timestamp,
                     eventIds: () -> String = RandomIdentifiers.uuid)
        async throws -> (AppendResult, OrderAggregate) {
        let newEvents = events.map {
            NewEvent(type: $0.type, eventId: eventIds(), occurredAt: time,
                     data: OrderEventCoding.encode($0), metadata: metadata)
        }
        let result = try await store.append(orderId: aggregate.orderId, expected: expected, events: newEvents,
                                            commandId: metadata.commandId)
        var after = aggregate
        if !result.duplicate {
            for event in events { after.apply(event, at: time) }
            if after.version / snapshotEvery > aggregate.version / snapshotEvery {
                // A failed snapshot write must not fail a command whose events are stored.
                try? await loader.saveSnapshot(after, position: result.lastPosition)
            }
        }
        return (result, after)
    }

}

import Foundation
import OrdersDomain
import RedisClient

/// Loads `OrderAggregate`s from their streams, with snapshots as a cache: both sides load orders
/// (the write side to decide, the read side to replay one order or answer as-of queries).
///
/// A snapshot is the aggregate's state at a version, stored in `orders:{0}:snapshot:<orderId>`
/// (in the order's partition, like its stream) with its schema and log position. Loading starts from the snapshot when its schema matches
/// this build's and folds only the events after it; a snapshot of another schema is ignored and
/// replaced. Snapshots are written outside the append's atomic call: losing one costs a longer
/// fold, never correctness.
public struct OrderLoader: Sendable {
    public let logs: StoreLogs

    public init(logs: StoreLogs) { self.logs = logs }

    public struct Snapshot: Sendable, Hashable {
        public var version: Int
        public var schema: Int
        public var position: LogPosition
        public var aggregate: OrderAggregate
    }

    /// The order as of its latest event (a fresh, empty aggregate when it has none).
    public func load(_ orderId: String, useSnapshot: Bool = true) async throws -> OrderAggregate {
        var aggregate = OrderAggregate(orderId: orderId)
        var after: LogPosition?
        var staleSnapshot = false
        if useSnapshot {
            switch try await snapshot(of: orderId) {
            case .usable(let snapshot):
                aggregate = snapshot.aggregate
                after = snapshot.position
            case .stale:
                staleSnapshot = true
            case .none:
                break
            }
        }
        let events = try await logs.ofOrder(orderId).events(of: orderId, after: after)
        try Self.fold(events, into: &aggregate)
        if staleSnapshot, let last = events.last {
            try await saveSnapshot(aggregate, position: last.position)
        }
        return aggregate
    }

    /// The order as it was at `time` (inclusive): a fold of its stream up to then, no snapshot.
    public func load(_ orderId: String, asOf time: Timestamp) async throws -> OrderAggregate {
        var aggregate = OrderAggregate(orderId: orderId)
        try Self.fold(try await logs.ofOrder(orderId).events(of: orderId, until: time), into: &aggregate)
        return aggregate
    }

    // MARK: - Snapshots

    public enum SnapshotLookup: Sendable {
        case none
        case stale(schema: Int)
        case usable(Snapshot)
    }

    public func snapshot(of orderId: String) async throws -> SnapshotLookup {
        let log = logs.ofOrder(orderId)
        let reply = try await log.redis.send("HMGET", log.keys.snapshot(orderId),
                                               "version", "schema", "position", "state")
        guard let fields = reply.array, fields.count == 4, let version = fields[0].int,
              let schema = fields[1].int else { return .none }
        guard schema == OrderAggregate.snapshotSchema else { return .stale(schema: schema) }
        guard let positionText = fields[2].string, let position = LogPosition(positionText),
              let stateBytes = fields[3].bytes,
              let aggregate = try? JSONDecoder().decode(OrderAggregate.self, from: Data(stateBytes)),
              aggregate.version == version, aggregate.orderId == orderId else {
            return .stale(schema: schema)
        }
        return .usable(Snapshot(version: version, schema: schema, position: position, aggregate: aggregate))
    }

    /// Takes a snapshot of the order as it is now; returns its version (0: the order has no events).
    @discardableResult
    public func snapshotNow(_ orderId: String) async throws -> Int {
        let aggregate = try await load(orderId)
        let log = logs.ofOrder(orderId)
        let last = try await log.redis.send("XREVRANGE", log.keys.stream(orderId), "+", "-", "COUNT", 1)
        guard aggregate.version > 0, let id = last.array?.first?.array?.first?.string, let position = LogPosition(id) else {
            return 0
        }
        try await saveSnapshot(aggregate, position: position)
        return aggregate.version
    }

    /// Stores a snapshot of `aggregate` unless one at the same or a later version is there.
    public func saveSnapshot(_ aggregate: OrderAggregate, position: LogPosition) async throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let state = String(decoding: try encoder.encode(aggregate), as: UTF8.self)
        let log = logs.ofOrder(aggregate.orderId)
        _ = try await FunctionLibrary.call(RedisCommand("FCALL", "orders_snapshot_save", 1, log.keys.snapshot(aggregate.orderId),
                                                        FunctionLibrary.version, aggregate.version, OrderAggregate.snapshotSchema,
                                                        position.description, state, Timestamp.now().description), on: log.redis)
    }

    /// Folds stored events into an aggregate, in version order.
    public static func fold(_ events: [RecordedEvent], into aggregate: inout OrderAggregate) throws {
        for event in events {
            guard event.version == aggregate.version + 1 else {
                throw EventStoreError.corrupt("order \(aggregate.orderId): expected version \(aggregate.version + 1), read \(event.version)")
            }
            aggregate.apply(try OrderEventCoding.decode(type: event.type, data: event.data), at: event.occurredAt)
        }
    }
}

import Synchronization
import OrdersDomain
import OrdersEventLog
import OrdersReadSide

/// The in-memory, synchronous twin of the Redis bus, for unit tests of projections: `publish`
/// hands events at once, in order, to every subscriber, on the caller's thread.
public final class InMemoryEventBus: Sendable {
    private let subscribers = Mutex<[@Sendable ([RecordedEvent]) -> Void]>([])

    public init() {}

    public func subscribe(_ handler: @escaping @Sendable ([RecordedEvent]) -> Void) {
        subscribers.withLock { $0.append(handler) }
    }

    public func publish(_ events: [RecordedEvent]) {
        for subscriber in subscribers.withLock({ $0 }) { subscriber(events) }
    }
}

/// Runs a projection in memory under the same rules as `Projector`: a batch of events is applied
/// at once; per order, events at or below the version it holds are skipped (a redelivery), the
/// order's new state is folded from its full history, and the batch's writes, counters summed,
/// are resolved and applied to an in-memory model of the Redis keys.
public final class InMemoryProjection<P: Projection>: Sendable {
    public let projection: P
    public let view: ViewKeys
    private let history: @Sendable (String) -> [RecordedEvent]
    private let state = Mutex<(orders: [String: (version: Int, state: P.State?)], model: InMemoryRedisModel)>(([:], InMemoryRedisModel()))

    /// `history` returns an order's events, oldest first (what the order's stream holds).
    public init(_ projection: P, view: ViewKeys, history: @escaping @Sendable (String) -> [RecordedEvent]) {
        self.projection = projection
        self.view = view
        self.history = history
    }

    public func subscribe(to bus: InMemoryEventBus) {
        bus.subscribe { [self] in apply($0) }
    }

    public func apply(_ events: [RecordedEvent]) {
        state.withLock { state in
            var newest: [String: Int] = [:]
            var order: [String] = []
            for event in events {
                if newest[event.orderId] == nil { order.append(event.orderId) }
                newest[event.orderId] = max(newest[event.orderId] ?? 0, event.version)
            }
            var batch = ProjectionBatch()
            for orderId in order {
                let (version, current) = state.orders[orderId] ?? (0, nil)
                let last = newest[orderId]!
                guard last > version else { continue }
                let pending = history(orderId).filter { $0.version > version && $0.version <= last }
                let (reached, folded, _) = projection.fold(pending, from: version, current)
                guard reached > version else { continue }
                projection.write(orderId, from: current, to: folded, into: &batch, in: view)
                state.orders[orderId] = (reached, folded)
            }
            state.model.apply(batch)
        }
    }

    /// The projection's per-order versions and states, and the keys it wrote.
    public var snapshot: (orders: [String: (version: Int, state: P.State?)], model: InMemoryRedisModel) {
        state.withLock { $0 }
    }
}

/// Hashes, sorted sets and sets in memory, changed by a batch's writes as Redis would.
public struct InMemoryRedisModel: Sendable, Equatable {
    public var hashes: [String: [String: String]] = [:]
    public var sortedSets: [String: [String: Double]] = [:]
    public var sets: [String: Set<String>] = [:]

    /// Resolves the batch against this model (as the projector does against Redis) and applies
    /// its writes.
    mutating func apply(_ batch: ProjectionBatch) {
        var current = ProjectionBatch.Current()
        for lookup in batch.lookups {
            switch lookup.kind {
            case .setSize: current.sizes[lookup.key] = sets[lookup.key]?.count ?? 0
            case .sortedSetSize: current.sizes[lookup.key] = sortedSets[lookup.key]?.count ?? 0
            case .setMembership: current.memberships[lookup.key] = Set(lookup.members.filter { sets[lookup.key]?.contains($0) == true })
            case .hashFields:
                for field in lookup.members { if let value = hashes[lookup.key]?[field] { current.numbers[lookup.key, default: [:]][field] = value } }
            case .sortedSetScores:
                for member in lookup.members {
                    if let score = sortedSets[lookup.key]?[member] { current.numbers[lookup.key, default: [:]][member] = String(Int64(score)) }
                }
            }
        }
        for write in batch.writes(given: current) {
            let key = write.key
            switch write {
            case .setFields(_, let pairs): for pair in pairs { hashes[key, default: [:]][pair.field] = pair.value }
            case .deleteFields(_, let fields): for field in fields { hashes[key]?[field] = nil }
            case .deleteKey:
                hashes[key] = nil
                sortedSets[key] = nil
                sets[key] = nil
            case .addMembers(_, let pairs): for pair in pairs { sortedSets[key, default: [:]][pair.member] = Double(pair.score)! }
            case .removeMembers(_, let members): for member in members { sortedSets[key]?[member] = nil }
            case .addToSet(_, let members): sets[key, default: []].formUnion(members)
            case .removeFromSet(_, let members): for member in members { sets[key]?.remove(member) }
            }
            // Like Redis, a hash, set or sorted set left empty does not exist.
            if hashes[key]?.isEmpty == true { hashes[key] = nil }
            if sortedSets[key]?.isEmpty == true { sortedSets[key] = nil }
            if sets[key]?.isEmpty == true { sets[key] = nil }
        }
    }
}

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

/// Runs a projection in memory under the same rules as `Projector`: per order, events at or below
/// the version it holds are skipped, a gap is healed from the order's full history, and each
/// order's changes are applied to an in-memory model of the Redis keys.
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
            for event in events {
                let (version, current) = state.orders[event.orderId] ?? (0, nil)
                guard event.version > version else { continue }
                var pending = [event]
                if event.version != version + 1 {
                    pending = history(event.orderId).filter { $0.version > version && $0.version <= event.version }
                }
                let (reached, folded, _) = projection.fold(pending, from: version, current)
                guard reached > version else { continue }
                let (changes, guardValue) = projection.changes(for: event.orderId, from: current, to: folded,
                                                               version: reached, in: view)
                state.model.apply(changes)
                let location = projection.guardLocation(of: event.orderId, in: view)
                state.model.hashes[location.key, default: [:]][location.field] = guardValue
                state.orders[event.orderId] = (reached, folded)
            }
        }
    }

    /// The projection's per-order versions and states, and the keys it wrote.
    public var snapshot: (orders: [String: (version: Int, state: P.State?)], model: InMemoryRedisModel) {
        state.withLock { $0 }
    }
}

/// Hashes, sorted sets and sets in memory, changed by the commands a `ProjectionChanges` holds.
public struct InMemoryRedisModel: Sendable, Equatable {
    public var hashes: [String: [String: String]] = [:]
    public var sortedSets: [String: [String: Double]] = [:]
    public var sets: [String: Set<String>] = [:]

    mutating func apply(_ changes: ProjectionChanges) {
        defer {
            // Like Redis, a hash or sorted set left empty does not exist. Only the keys this change
            // touched are looked at: scanning the whole model per change made rebuilds quadratic.
            for key in changes.keys {
                if hashes[key]?.isEmpty == true { hashes[key] = nil }
                if sortedSets[key]?.isEmpty == true { sortedSets[key] = nil }
                if sets[key]?.isEmpty == true { sets[key] = nil }
            }
        }
        var decremented: [String: Set<String>] = [:]
        for operation in changes.operations {
            let command = operation.command
            let key = changes.keys[operation.key]
            let values = operation.arguments
            switch command {
            case "HSET":
                for pair in stride(from: 0, to: values.count, by: 2) { hashes[key, default: [:]][values[pair]] = values[pair + 1] }
            case "HDEL":
                for field in values { hashes[key]?[field] = nil }
            case "DEL":
                hashes[key] = nil
                sortedSets[key] = nil
                sets[key] = nil
            case "SADD":
                sets[key, default: []].formUnion(values)
            case "SREM":
                for member in values { sets[key]?.remove(member) }
            case "DROPWORD": // like orders_project: a word whose set is empty leaves the word list
                if sets[key]?.isEmpty ?? true {
                    let list = changes.keys[Int(values[0])! - 1]
                    sortedSets[list]?[values[1]] = nil
                    if sortedSets[list]?.isEmpty == true { sortedSets[list] = nil }
                }
            case "HINCRBY": // like orders_project: a field back at zero is deleted
                let sum = Int64(hashes[key]?[values[0]] ?? "0")! + Int64(values[1])!
                hashes[key, default: [:]][values[0]] = sum == 0 ? nil : String(sum)
            case "ZADD":
                for pair in stride(from: 0, to: values.count, by: 2) { sortedSets[key, default: [:]][values[pair + 1]] = Double(values[pair])! }
            case "ZREM":
                for member in values { sortedSets[key]?[member] = nil }
            case "ZINCRBY":
                sortedSets[key, default: [:]][values[1], default: 0] += Double(values[0])!
                if Double(values[0])! < 0 { decremented[key, default: []].insert(values[1]) }
            case "RANK": // like orders_project: the exact sum in a hash, the ranking scored by it
                let sums = changes.keys[Int(values[0])! - 1], member = values[1]
                let sum = Int64(hashes[sums]?[member] ?? "0")! + Int64(values[2])!
                hashes[sums, default: [:]][member] = sum == 0 ? nil : String(sum)
                sortedSets[key, default: [:]][member] = sum == 0 ? nil : Double(sum)
                if hashes[sums]?.isEmpty == true { hashes[sums] = nil }
            case "ZREMRANGEBYSCORE":
                // Only used as "-inf 0" after decrements in the same change list: every other
                // member was above zero before, so only the decremented ones can have dropped.
                for member in decremented[key] ?? [] where (sortedSets[key]?[member] ?? 1) <= Double(values[1])! {
                    sortedSets[key]?[member] = nil
                }
            default:
                preconditionFailure("a projection produced an unknown command \(command)")
            }
        }
    }
}

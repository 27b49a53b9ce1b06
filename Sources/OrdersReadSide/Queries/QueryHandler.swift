import Foundation
import Synchronization
import RedisClient
import OrdersDomain
import OrdersEventLog

/// Answers queries from the read models only (never from the event streams). Every query reads
/// the live generation of the projection it needs, and may first wait, bounded, until that
/// projection has applied a given log position (read-your-writes).
public final class QueryHandler: Sendable {
    public let log: EventLog
    public let monitor: ProjectionMonitor
    /// Longest wait for `minPosition`.
    public let freshnessWait: Duration
    /// A search word matching at most this many index entries is looked up in the index; words
    /// that match more are checked on the candidates' own terms instead, and a query whose words
    /// all match more walks the orders newest first (see `search`).
    public let searchIndexLimit: Int
    /// Most orders one list or search request reads: its cost is bounded by what it returns or
    /// by this, never by the size of the log. A walk that reaches it answers the orders found
    /// so far with a cursor to continue from.
    public let scanBudget: Int

    /// Most queries waiting for `minPosition` at once.
    public let maxWaiting: Int
    private let waiting: BoundedCount

    public init(log: EventLog, freshnessWait: Duration = .seconds(2), maxWaiting: Int = 256,
                searchIndexLimit: Int = 2_000, scanBudget: Int = 2_000) {
        self.log = log
        self.maxWaiting = maxWaiting
        self.waiting = BoundedCount(limit: maxWaiting)
        self.monitor = ProjectionMonitor(log: log)
        self.freshnessWait = freshnessWait
        self.searchIndexLimit = searchIndexLimit
        self.scanBudget = scanBudget
    }

    // MARK: - Generations and freshness

    /// The live generation's keys of `projection`, after waiting (bounded) until it has applied
    /// `minPosition`: each query looks up the live pointer once, and waits on the generation it
    /// then reads.
    public func view(_ projection: String, applied minPosition: LogPosition?) async throws -> ViewKeys {
        try await views(of: [projection], applied: minPosition)[0]
    }

    /// The live generations' keys of several projections, read in one round trip, after waiting
    /// until each has applied `minPosition`.
    func views(of projections: [String], applied minPosition: LogPosition?) async throws -> [ViewKeys] {
        let live = try await LiveGenerations(log: log).live(projections)
        let views = projections.map { ViewKeys(keys: log.keys, projection: $0, generation: live[$0] ?? 1) }
        for view in views { try await waitUntilApplied(minPosition, in: view) }
        return views
    }

    /// Waits until `view`'s generation has applied `position`, or throws `staleRead` after
    /// `freshnessWait`. A position past the log's head is refused at once (`unknownPosition`):
    /// no command returned it, so waiting cannot help. At most `maxWaiting` queries wait at a
    /// time; the next is answered `staleRead` at once rather than tie the service up.
    func waitUntilApplied(_ position: LogPosition?, in view: ViewKeys) async throws {
        guard let position else { return }
        if try await monitor.hasPassed(position, projection: view.projection, generation: view.generation) { return }
        guard let head = try await log.lastPosition(), position <= head else {
            throw ReadSideError(.unknownPosition, "minPosition \(position) is past the newest event of this store; use a position a command returned")
        }
        guard waiting.enter() else {
            throw ReadSideError(.staleRead, "the \(view.projection) read model has not reached position \(position), and \(maxWaiting) queries are waiting already")
        }
        defer { waiting.leave() }
        let deadline = ContinuousClock.now + freshnessWait
        while true {
            try await Task.sleep(for: .milliseconds(5))
            if try await monitor.hasPassed(position, projection: view.projection, generation: view.generation) { return }
            guard ContinuousClock.now < deadline else {
                throw ReadSideError(.staleRead, "the \(view.projection) read model has not reached position \(position) within \(freshnessWait)")
            }
        }
    }

    // MARK: - Orders

    public func order(_ orderId: String, minPosition: LogPosition? = nil) async throws -> OrderView {
        let keys = try await view(OrderProjection.name, applied: minPosition)
        guard Identifier.isValid(orderId), let view = try await views([orderId], keys).first else {
            throw ReadSideError.notFound("order \(orderId.prefix(80)) does not exist")
        }
        return view
    }

    /// The order's record as stored: the JSON `getOrder` answers, neither decoded nor re-encoded.
    public func orderDocument(_ orderId: String, minPosition: LogPosition? = nil) async throws -> [UInt8] {
        let keys = try await view(OrderProjection.name, applied: minPosition)
        guard Identifier.isValid(orderId), let doc = try await log.redis.send("HGET", keys.record(orderId), "doc").bytes else {
            throw ReadSideError.notFound("order \(orderId.prefix(80)) does not exist")
        }
        return doc
    }

    func views(_ ids: [String], _ keys: ViewKeys) async throws -> [OrderView] {
        guard !ids.isEmpty else { return [] }
        let replies = try await log.redis.pipeline(ids.map { RedisCommand("HGET", keys.record($0), "doc") })
        return try replies.compactMap { reply in try reply.orThrow().bytes.map(OrderProjection.decode) }
    }
}

/// A count that refuses to pass its limit: how many are inside now.
final class BoundedCount: Sendable {
    let limit: Int
    private let count = Atomic<Int>(0)

    init(limit: Int) { self.limit = limit }

    /// Counts one in, unless the limit is reached (then false, and nothing is counted).
    func enter() -> Bool {
        if count.add(1, ordering: .relaxed).newValue <= limit { return true }
        count.subtract(1, ordering: .relaxed)
        return false
    }

    func leave() { count.subtract(1, ordering: .relaxed) }
}

extension Array {
    subscript(safe index: Int) -> Element? { indices.contains(index) ? self[index] : nil }
}

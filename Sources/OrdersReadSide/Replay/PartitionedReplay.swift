import OrdersDomain
import OrdersEventLog

/// Replays of a store of several partitions: each partition's read models are rebuilt by its
/// own `ReplayService` (its slot, its generations, its live pointer), all partitions at once.
///
/// - One order: its partition alone (known from its id).
/// - From a time, or a rebuild: every partition, in parallel. Starting in the background claims
///   every partition's slot first; if one cannot start (another replay running there), the ones
///   already started are cancelled and the reason is thrown, so a replay runs everywhere or
///   nowhere.
/// - Status: one status for all partitions: the least advanced phase of those still running (or
///   failed, or cancelled, if any partition was), events or orders done and total summed, the
///   oldest heartbeat, the first error. Its id is partition 0's (every partition's replay is
///   listed in the log under its own id).
public final class PartitionedReplay: Sendable {
    public let layout: StoreLayout
    /// One per partition, by partition number.
    public let partitions: [ReplayService]

    public init(logs: StoreLogs, projections: [any Projection] = Projections.standard, consumer: String = "replay",
                dropGrace: Duration = .seconds(3)) {
        self.layout = logs.layout
        self.partitions = logs.partitions.map {
            ReplayService(log: $0, projections: projections, consumer: consumer, dropGrace: dropGrace)
        }
    }

    public var projections: [any Projection] { partitions[0].projections }

    private func everyPartition<T: Sendable>(_ work: @escaping @Sendable (ReplayService) async throws -> T) async throws -> [T] {
        try await inParallel(partitions) { _, service in try await work(service) }
    }

    // MARK: - Running to the end

    public func rebuild(_ projections: [String]) async throws {
        _ = try await everyPartition { try await $0.rebuild(projections) }
    }

    /// Re-projects every order with an event at or after `time`; returns how many orders.
    @discardableResult
    public func replay(from time: Timestamp) async throws -> Int {
        try await everyPartition { try await $0.replay(from: time) }.reduce(0, +)
    }

    public func replay(orderId: String) async throws {
        try await partitions[layout.partition(ofOrder: orderId)].replay(orderId: orderId)
    }

    /// Finishes what replays that died left behind, in every partition.
    public func recoverAbandoned() async {
        _ = try? await everyPartition { await $0.recoverAbandoned() }
    }

    // MARK: - In the background

    public func start(_ request: ReplayService.Request) async throws -> ReplayStatus {
        if case .order(let orderId) = request {
            return try await partitions[layout.partition(ofOrder: orderId)].start(request)
        }
        var started: [ReplayStatus] = []
        for service in partitions {
            do {
                started.append(try await service.start(request))
            } catch {
                for running in partitions.prefix(started.count) { try? await running.cancel() }
                throw error
            }
        }
        return Self.combined(started)
    }

    /// The status of the latest replay, over every partition (nil when none has run).
    public func status() async throws -> ReplayStatus? {
        let statuses = try await everyPartition { try await $0.status() }
        // One order's replay ran in one partition: the newest status is the one to show.
        let present = statuses.compactMap { $0 }
        guard let newest = present.max(by: { $0.startedAt < $1.startedAt }) else { return nil }
        if newest.kind == "order" { return newest }
        return Self.combined(present.filter { $0.kind == newest.kind })
    }

    public func cancel() async throws {
        _ = try await everyPartition { try await $0.cancel() }
    }

    /// One status standing for every partition's.
    static func combined(_ statuses: [ReplayStatus]) -> ReplayStatus {
        var status = statuses[0]
        if statuses.count == 1 { return status }
        let order = ReplayStatus.Phase.allCases
        let phases = statuses.map(\.phase)
        if let failed = phases.first(where: { $0 == .failed || $0 == .cancelled }) {
            status.phase = failed
        } else {
            status.phase = phases.min { order.firstIndex(of: $0)! < order.firstIndex(of: $1)! }!
        }
        status.done = statuses.reduce(0) { $0 + $1.done }
        status.total = statuses.reduce(0) { $0 + $1.total }
        status.heartbeat = statuses.map(\.heartbeat).min()!
        status.startedAt = statuses.map(\.startedAt).min()!
        status.error = statuses.lazy.compactMap(\.error).first
        return status
    }
}

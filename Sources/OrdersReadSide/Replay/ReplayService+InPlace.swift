import Foundation
import RedisClient
import OrdersDomain
import OrdersEventLog

/// In-place replays: every order changed since a time, or one order, re-projected where it is.
extension ReplayService {
    // MARK: - In place: from a time, or one order

    /// Every order with an event at or after `time`, in the order of their first such event:
    /// read from the log's entries since then (which name their orders), so it costs what
    /// changed since `time`, not what the store holds, while the log's retention window reaches
    /// back that far.
    func ordersChanged(since time: Timestamp, _ status: inout ReplayStatus) async throws -> [String] {
        // The log's retention may have trimmed entries since `time`: then every order's own
        // stream tells instead (a walk over all of them, slower but exact).
        guard try await log.holdsEverything(since: time) else {
            let orderIds = try await log.ordersWithEvents(since: time)
            status.total = orderIds.count
            return orderIds
        }
        var orderIds: [String] = []
        var seen = Set<String>()
        var cursor: LogPosition?
        while true {
            let page = cursor == nil ? try await log.logOrders(from: time, limit: Self.pageSize)
                                     : try await log.logOrders(after: cursor, limit: Self.pageSize)
            guard let last = page.last else { break }
            for entry in page where seen.insert(entry.orderId).inserted { orderIds.append(entry.orderId) }
            cursor = last.position
            try await slot.checkpoint(&status)
        }
        status.total = orderIds.count
        return orderIds
    }

    func replayInPlace(_ orderIds: [String], _ status: inout ReplayStatus) async throws -> Int {
        let live = try await generations.live(projections.names)
        let views = projections.map { ViewKeys(keys: log.keys, projection: $0.name, generation: live[$0.name] ?? 1) }
        let redis = log.redis.dedicated() // one connection for every order's fenced commit
        defer { redis.close() }
        for orderId in orderIds {
            for (projection, view) in zip(projections, views) {
                try await projection.replaceState(of: orderId, in: view, log: log, on: redis)
            }
            status.done += 1
            if status.done % 100 == 0 || status.done == orderIds.count { try await slot.checkpoint(&status) }
        }
        return orderIds.count
    }
}

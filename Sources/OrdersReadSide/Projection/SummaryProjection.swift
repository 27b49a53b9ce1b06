import RedisClient
import OrdersDomain
import OrdersEventLog

/// The sales summary: totals, orders by status, revenue, top customers, per-day figures. An
/// event moves the summary by exactly the difference between the order's old and new
/// contribution (both folded from the order's stream by the projector), summed over the batch,
/// so the summary always equals a recount over the orders.
public struct SummaryProjection: Projection {
    public typealias State = SummaryContribution
    public static let name = "summary"
    /// 2: customers' revenue is ranked by its exact sum (`customers:revenue-cents`), names are no
    /// longer kept here (topCustomers names a customer by their newest order), and customers are
    /// keyed by their folded email (`TextFolding`).
    /// 3: the totals hold each status's order amounts (`amount:<status>`, cents), for REST's
    ///    `revenueByStatus`.
    /// 4: no per-order contributions hash (`…:orders`): the projector folds an order's old
    ///    contribution from its stream, up to the checkpoint.
    public static let schemaVersion = 4

    public init() {}

    public func apply(_ event: OrderEvent, of recorded: RecordedEvent, to state: SummaryContribution?) -> SummaryContribution? {
        switch event {
        case .created(let created):
            let total = created.items.reduce(Money.zero) { $0 + $1.lineTotal }
            return SummaryContribution(status: .pending, total: total, customerEmail: TextFolding.fold(created.customerEmail),
                                       day: recorded.occurredAt.day)
        case .statusChanged(let change):
            guard var state else { return nil }
            state.status = change.to
            return state
        case .cancelled:
            guard var state else { return nil }
            state.status = .cancelled
            return state
        case .deleted:
            return nil
        }
    }

    public func write(_ orderId: String, from old: SummaryContribution?, to new: SummaryContribution?,
                      into batch: inout ProjectionBatch, in keys: ViewKeys) {
        guard old != new else { return }
        func add(_ contribution: SummaryContribution, _ sign: Int64) {
            let revenue = contribution.revenue.cents
            batch.increment(keys.totals, "orders", by: sign)
            batch.increment(keys.totals, "status:" + contribution.status.rawValue, by: sign)
            batch.increment(keys.totals, "revenue", by: sign * revenue)
            batch.increment(keys.totals, "amount:" + contribution.status.rawValue, by: sign * contribution.total.cents)
            if contribution.status != .cancelled { batch.increment(keys.totals, "revenueOrders", by: sign) }
            // Revenue can pass 2^53 cents for one customer: the exact sum is kept beside the score.
            batch.rank(keys.customersByRevenue, sums: keys.customerRevenueCents, contribution.customerEmail, by: sign * revenue)
            batch.count(keys.customersByCount, contribution.customerEmail, by: sign)
            batch.increment(keys.days, "orders:" + contribution.day, by: sign)
            batch.increment(keys.days, "revenue:" + contribution.day, by: sign * revenue)
        }
        if let old { add(old, -1) }
        if let new { add(new, 1) }
    }
}

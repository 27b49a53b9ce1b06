import RedisClient
import OrdersDomain
import OrdersEventLog

/// The sales summary: totals, orders by status, revenue, top customers, per-day figures. Each
/// order's contribution is kept (`…:summary:g1:orders`), so an event moves the summary by exactly
/// the difference between the order's old and new contribution, and the summary always equals a
/// recount over the orders.
public struct SummaryProjection: Projection {
    public typealias State = SummaryContribution
    public static let name = "summary"
    /// 2: customers' revenue is ranked by its exact sum (`customers:revenue-cents`), names are no
    /// longer kept here (topCustomers names a customer by their newest order), and customers are
    /// keyed by their folded email (`TextFolding`).
    /// 3: the totals hold each status's order amounts (`amount:<status>`, cents), for REST's
    ///    `revenueByStatus`.
    public static let schemaVersion = 3

    public init() {}

    public func guardLocation(of orderId: String, in keys: ViewKeys) -> (key: String, field: String) {
        (keys.orderContributions, orderId)
    }

    public func readCommand(for orderId: String, in keys: ViewKeys) -> RedisCommand {
        RedisCommand("HGET", keys.orderContributions, orderId)
    }

    /// The stored form is `version|status|cents|day|email` (email last: it may hold '|'), or
    /// `version|` for an order that contributes nothing (deleted).
    public func parse(_ reply: RedisValue) throws -> (version: Int, state: SummaryContribution?) {
        guard let text = reply.string else { return (0, nil) }
        let parts = text.split(separator: "|", maxSplits: 4, omittingEmptySubsequences: false)
        guard let version = Int(parts[0]) else { throw ReadSideError.corrupt("bad contribution '\(text)'") }
        guard parts.count == 5 else { return (version, nil) }
        guard let status = OrderStatus(rawValue: String(parts[1])), let cents = Int64(parts[2]) else {
            throw ReadSideError.corrupt("bad contribution '\(text)'")
        }
        return (version, SummaryContribution(status: status, total: Money(cents: cents), customerEmail: String(parts[4]),
                                             day: String(parts[3])))
    }

    public func state(from aggregate: OrderAggregate) -> SummaryContribution? {
        OrderView(aggregate).map(SummaryContribution.init)
    }

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

    public func changes(for orderId: String, from old: SummaryContribution?, to new: SummaryContribution?,
                        version: Int, in keys: ViewKeys) -> (ProjectionChanges, guardValue: String) {
        var deltas: [Delta: Int64] = [:]
        func add(_ contribution: SummaryContribution, _ sign: Int64) {
            let revenue = contribution.revenue.cents
            deltas[Delta(command: "HINCRBY", key: keys.totals, field: "orders"), default: 0] += sign
            deltas[Delta(command: "HINCRBY", key: keys.totals, field: "status:" + contribution.status.rawValue), default: 0] += sign
            deltas[Delta(command: "HINCRBY", key: keys.totals, field: "revenue"), default: 0] += sign * revenue
            deltas[Delta(command: "HINCRBY", key: keys.totals, field: "amount:" + contribution.status.rawValue), default: 0]
                += sign * contribution.total.cents
            if contribution.status != .cancelled {
                deltas[Delta(command: "HINCRBY", key: keys.totals, field: "revenueOrders"), default: 0] += sign
            }
            deltas[Delta(command: "RANK", key: keys.customersByRevenue, field: contribution.customerEmail), default: 0] += sign * revenue
            deltas[Delta(command: "ZINCRBY", key: keys.customersByCount, field: contribution.customerEmail), default: 0] += sign
            deltas[Delta(command: "HINCRBY", key: keys.days, field: "orders:" + contribution.day), default: 0] += sign
            deltas[Delta(command: "HINCRBY", key: keys.days, field: "revenue:" + contribution.day), default: 0] += sign * revenue
        }
        if let old { add(old, -1) }
        if let new { add(new, 1) }

        var changes = ProjectionChanges(guardKey: keys.orderContributions)
        var customerDecreased = false
        for (delta, amount) in deltas.sorted(by: { ($0.key.key, $0.key.field) < ($1.key.key, $1.key.field) }) where amount != 0 {
            if delta.command == "ZINCRBY" && amount < 0 { customerDecreased = true }
            switch delta.command {
            case "ZINCRBY": changes.add("ZINCRBY", delta.key, [String(amount), delta.field])
            // Revenue can pass 2^53 cents for one customer: the exact sum is kept beside the score.
            case "RANK": changes.rank(delta.key, sums: keys.customerRevenueCents, member: delta.field, delta: amount)
            default: changes.add("HINCRBY", delta.key, [delta.field, String(amount)])
            }
        }
        if customerDecreased {
            // A customer whose orders all left leaves the count ranking (RANK drops a revenue of 0 itself).
            changes.add("ZREMRANGEBYSCORE", keys.customersByCount, ["-inf", "0"])
        }
        let guardValue = new.map { "\(version)|\($0.status.rawValue)|\($0.total.cents)|\($0.day)|\($0.customerEmail)" } ?? "\(version)|"
        return (changes, guardValue)
    }

    private struct Delta: Hashable {
        let command: String
        let key: String
        let field: String
    }
}

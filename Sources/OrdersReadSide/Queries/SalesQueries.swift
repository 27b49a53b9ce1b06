import Foundation
import RedisClient
import OrdersDomain
import OrdersEventLog

/// The sales figures: the summary and the top customers.
extension QueryHandler {
    public struct Summary: Sendable, Hashable {
        public var totalOrders: Int
        public var ordersByStatus: [OrderStatus: Int]
        /// The orders' amounts by the status they are in (cancelled ones included).
        public var amountByStatus: [OrderStatus: Money]
        /// Total of every order that is not cancelled (open and delivered alike).
        public var revenue: Money
        /// How many orders `revenue` counts (those not cancelled).
        public var revenueOrders: Int
        /// `revenue` over the orders it counts, rounded half-up to the cent; zero with none.
        public var averageOrderValue: Money
        public var days: [Day]

        public struct Day: Sendable, Hashable {
            public var day: String
            public var orders: Int
            public var revenue: Money
        }
    }

    public func summary(minPosition: LogPosition? = nil) async throws -> Summary {
        let keys = try await view(SummaryProjection.name, applied: minPosition)
        let replies = try await log.redis.pipeline([RedisCommand("HGETALL", keys.totals), RedisCommand("HGETALL", keys.days)])
        let totals = Self.counters(try replies[0].orThrow())
        var byStatus: [OrderStatus: Int] = [:]
        var amounts: [OrderStatus: Money] = [:]
        for status in OrderStatus.allCases {
            byStatus[status] = Int(totals["status:" + status.rawValue] ?? 0)
            amounts[status] = Money(cents: totals["amount:" + status.rawValue] ?? 0)
        }
        let revenue = totals["revenue"] ?? 0
        let counted = totals["revenueOrders"] ?? 0
        let average = Self.average(revenue, over: counted)
        var days: [String: Summary.Day] = [:]
        for (field, value) in Self.counters(try replies[1].orThrow()) {
            let parts = field.split(separator: ":", maxSplits: 1)
            guard parts.count == 2 else { continue }
            let day = String(parts[1])
            var entry = days[day] ?? Summary.Day(day: day, orders: 0, revenue: .zero)
            if parts[0] == "orders" { entry.orders = Int(value) } else { entry.revenue = Money(cents: value) }
            days[day] = entry
        }
        return Summary(totalOrders: Int(totals["orders"] ?? 0), ordersByStatus: byStatus, amountByStatus: amounts,
                       revenue: Money(cents: revenue), revenueOrders: Int(counted),
                       averageOrderValue: Money(cents: average),
                       days: days.values.filter { $0.orders != 0 || $0.revenue != .zero }.sorted { $0.day < $1.day })
    }

    public struct CustomerFigures: Sendable, Hashable {
        public var email: String
        public var name: String
        public var orders: Int
        public var revenue: Money
    }

    /// The customers with the most revenue (or orders), ties broken by email. Revenue is the
    /// exact sum in cents: the ranking's scores are doubles (exact only up to 2^53 cents), so the
    /// scores pick the candidates and the exact sums (`customers:revenue-cents`) order and answer.
    /// A customer is named by their newest order in the order read model.
    public func topCustomers(limit: Int = 10, byRevenue: Bool = true, minPosition: LogPosition? = nil) async throws -> [CustomerFigures] {
        guard (1...1000).contains(limit) else { throw ReadSideError.invalid("limit must be between 1 and 1000, got \(limit)") }
        // Names come from the order model: both live generations in one read.
        let both = try await views(of: [SummaryProjection.name, OrderProjection.name], applied: minPosition)
        let keys = both[0]
        let ranking = byRevenue ? keys.customersByRevenue : keys.customersByCount
        let top = (try await log.redis.send("ZRANGE", ranking, 0, limit - 1, "REV", "WITHSCORES").array ?? []).compactMap(\.string)
        guard top.count >= 2 else { return [] }
        // Members scored like the last one may rank above it by email (a sorted set orders ties
        // by member, so the first `limit` of them are the ones that can), or, past 2^53 cents
        // where doubles stop being exact, by their exact sums (a bounded number more).
        let lastScore = top[top.count - 1]
        let inexact = (Double(lastScore) ?? 0) >= 9_007_199_254_740_992
        let tied = (try await log.redis.send("ZRANGE", ranking, lastScore, lastScore, "BYSCORE",
                                                "LIMIT", 0, inexact ? 1000 : limit).array ?? []).compactMap(\.string)
        var emails: [String] = stride(from: 0, to: top.count - 1, by: 2).map { top[$0] }
        emails += tied.filter { !emails.contains($0) }
        let replies = try await log.redis.pipeline([
            RedisCommand("ZMSCORE", [keys.customersByCount] + emails),
            RedisCommand("HMGET", [keys.customerRevenueCents] + emails),
            RedisCommand("ZMSCORE", [keys.customersByRevenue] + emails),
        ])
        let counts = try replies[0].orThrow().array ?? []
        let exact = try replies[1].orThrow().array ?? []
        let scores = try replies[2].orThrow().array ?? []
        var figures = emails.enumerated().map { index, email in
            // A generation built before schema 2 has no exact sums: its scores are all there is.
            let cents = exact[safe: index]?.string.flatMap { Int64($0) }
                ?? scores[safe: index]?.string.flatMap { Double($0) }.map { Int64($0) } ?? 0
            return CustomerFigures(email: email, name: "",
                                   orders: counts[safe: index]?.string.flatMap { Double($0) }.map { Int($0) } ?? 0,
                                   revenue: Money(cents: cents))
        }
        figures.sort { a, b in
            let (x, y) = byRevenue ? (a.revenue.cents, b.revenue.cents) : (Int64(a.orders), Int64(b.orders))
            return x != y ? x > y : a.email < b.email
        }
        figures = Array(figures.prefix(limit))
        let names = try await newestNames(of: figures.map(\.email), in: both[1])
        for index in figures.indices { figures[index].name = names[index] }
        return figures
    }

    /// Each customer's name on their newest order: the latest creation time in the order read
    /// model's customer index (milliseconds; within one, the greatest order id), or "" when the
    /// customer has no order left there.
    func newestNames(of emails: [String], in keys: ViewKeys) async throws -> [String] {
        guard !emails.isEmpty else { return [] }
        let newest = try await log.redis.pipeline(emails.map { RedisCommand("ZRANGE", keys.byCustomer($0), 0, 0, "REV") })
            .map { try $0.orThrow().array?.first?.string }
        let found = newest.compactMap { $0 }
        let views = try await self.views(found, keys)
        var byId: [String: String] = [:]
        for view in views { byId[view.orderId] = view.customerName }
        return newest.map { $0.flatMap { byId[$0] } ?? "" }
    }

    /// `cents` over `count`, rounded half-up to the cent; zero over none.
    static func average(_ cents: Int64, over count: Int64) -> Int64 {
        count > 0 ? (cents * 2 + count) / (count * 2) : 0
    }

    /// A hash of counters (HGETALL) as numbers.
    private static func counters(_ reply: RedisValue) -> [String: Int64] {
        reply.fields.compactMapValues { Int64($0) }
    }
}

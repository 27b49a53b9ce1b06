import Foundation
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

    public init(log: EventLog, freshnessWait: Duration = .seconds(2), searchIndexLimit: Int = 2_000, scanBudget: Int = 2_000) {
        self.log = log
        self.monitor = ProjectionMonitor(log: log)
        self.freshnessWait = freshnessWait
        self.searchIndexLimit = searchIndexLimit
        self.scanBudget = scanBudget
    }

    public enum Failure: Error, Sendable, Equatable {
        case notFound(String)
        case staleRead(String)
        case invalid(String)
    }

    // MARK: - Generations and freshness

    /// The live generation's keys of `projection`, after waiting (bounded) until it has applied
    /// `minPosition`: each query looks up the live pointer once, and waits on the generation it
    /// then reads.
    func view(_ projection: String, applied minPosition: LogPosition?) async throws -> ViewKeys {
        let view = ViewKeys(keys: log.keys, projection: projection, generation: try await LiveGenerations(log: log).live(projection))
        try await waitUntilApplied(minPosition, in: view)
        return view
    }

    /// Waits until `view`'s generation has applied `position`, or throws `staleRead` after `freshnessWait`.
    func waitUntilApplied(_ position: LogPosition?, in view: ViewKeys) async throws {
        guard let position else { return }
        let deadline = ContinuousClock.now + freshnessWait
        while true {
            if try await monitor.hasPassed(position, projection: view.projection, generation: view.generation) { return }
            guard ContinuousClock.now < deadline else {
                throw Failure.staleRead("the \(view.projection) read model has not reached position \(position) within \(freshnessWait)")
            }
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    // MARK: - Orders

    public func order(_ orderId: String, minPosition: LogPosition? = nil) async throws -> OrderView {
        let keys = try await view(OrderProjection.name, applied: minPosition)
        guard Identifier.isValid(orderId), let view = try await views([orderId], keys).first else {
            throw Failure.notFound("order \(orderId.prefix(80)) does not exist")
        }
        return view
    }

    /// Orders whose words (customer name and email, order id, item names and skus) start with
    /// every word of `query`, case-insensitively; newest first.
    public func search(_ query: String, limit: Int = 50, minPosition: LogPosition? = nil) async throws -> [OrderView] {
        guard (1...1000).contains(limit) else { throw Failure.invalid("limit must be between 1 and 1000, got \(limit)") }
        let words = TextFolding.words(query)
        guard !words.isEmpty else { throw Failure.invalid("q must contain at least one letter or digit") }
        let keys = try await view(OrderProjection.name, applied: minPosition)
        // 0xFF never occurs in UTF-8, so "[word" … "[word\xFF" spans exactly the terms starting with word.
        let ranges = words.map { ("[" + $0, Array(("[" + $0).utf8) + [0xFF]) }
        let counts = try await log.redis.pipeline(ranges.map { RedisCommand("ZLEXCOUNT", keys.terms, $0.0, $0.1) })
            .map { try $0.orThrow().int ?? 0 }
        if counts.contains(0) { return [] }
        // Fetching every match of a common word ("customer" in a shop of Customer N) and ranking
        // them all cost more than everything else the service does; so only selective words are
        // read from the index, and common ones are checked on each candidate's own terms.
        let selective = words.indices.filter { counts[$0] <= searchIndexLimit }
        let common = words.indices.filter { counts[$0] > searchIndexLimit }.map { words[$0] }
        guard !selective.isEmpty else { return try await walkNewestFirst(matching: common, limit: limit, keys) }
        let replies = try await log.redis.pipeline(selective.map {
            RedisCommand("ZRANGE", keys.terms, ranges[$0].0, ranges[$0].1, "BYLEX")
        })
        var matches: Set<String>?
        for reply in replies {
            var ids = Set<String>()
            for member in try reply.orThrow().array ?? [] {
                guard let text = member.string, let separator = text.lastIndex(of: "\u{0}") else { continue }
                ids.insert(String(text[text.index(after: separator)...]))
            }
            matches = matches.map { $0.intersection(ids) } ?? ids
        }
        // Rank the candidates by creation time (one ZMSCORE), then fetch records only as far as
        // needed: all of the first `limit` match when every word was selective.
        let ids = Array(matches ?? [])
        guard !ids.isEmpty else { return [] }
        let scores = try await log.redis.send(RedisCommand("ZMSCORE", [keys.byCreated] + ids)).array ?? []
        let ranked = zip(ids, scores).compactMap { id, score in score.string.flatMap(Double.init).map { (id, $0) } }
            .sorted { ($0.1, $0.0) > ($1.1, $1.0) }.map(\.0)
        var found: [OrderView] = []
        var start = 0
        while found.count < limit && start < ranked.count {
            let page = Array(ranked[start..<min(ranked.count, start + max(limit, 100))])
            start += page.count
            found += try await views(page, keys).filter { Self.matches($0, common) }
        }
        return Array(found.prefix(limit))
    }

    /// Every word common: the orders newest first (the creation index), each checked on its own
    /// terms, until `limit` match. Words that common match most orders, so few pages are read;
    /// common words that (almost) never occur together stop after `scanBudget` orders.
    private func walkNewestFirst(matching words: [String], limit: Int, _ keys: ViewKeys) async throws -> [OrderView] {
        var found: [OrderView] = []
        var offset = 0
        let pageSize = max(limit, 100)
        while found.count < limit && offset < scanBudget {
            let ids = (try await log.redis.send("ZRANGE", keys.byCreated, offset, offset + pageSize - 1, "REV").array ?? [])
                .compactMap(\.string)
            guard !ids.isEmpty else { break }
            offset += ids.count
            found += try await views(ids, keys).filter { Self.matches($0, words) }
        }
        return Array(found.prefix(limit))
    }

    /// True when every word starts one of the order's search terms (byte-wise, as the index's
    /// lexicographic ranges compare).
    static func matches(_ view: OrderView, _ words: [String]) -> Bool {
        guard !words.isEmpty else { return true }
        let terms = view.searchTerms
        return words.allSatisfy { word in terms.contains { $0.utf8.starts(with: word.utf8) } }
    }

    func views(_ ids: [String], _ keys: ViewKeys) async throws -> [OrderView] {
        guard !ids.isEmpty else { return [] }
        let replies = try await log.redis.pipeline(ids.map { RedisCommand("HGET", keys.record($0), "doc") })
        return try replies.compactMap { reply in try reply.orThrow().bytes.map(OrderProjection.decode) }
    }

    // MARK: - Summary

    public struct Summary: Sendable, Hashable {
        public var totalOrders: Int
        public var ordersByStatus: [OrderStatus: Int]
        /// Total of every order that is not cancelled (open and delivered alike).
        public var revenue: Money
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
        let totals = try Self.pairs(replies[0].orThrow())
        var byStatus: [OrderStatus: Int] = [:]
        for status in OrderStatus.allCases { byStatus[status] = Int(totals["status:" + status.rawValue] ?? 0) }
        let revenue = totals["revenue"] ?? 0
        let counted = totals["revenueOrders"] ?? 0
        let average = counted > 0 ? (revenue * 2 + counted) / (counted * 2) : 0
        var days: [String: Summary.Day] = [:]
        for (field, value) in try Self.pairs(replies[1].orThrow()) {
            let parts = field.split(separator: ":", maxSplits: 1)
            guard parts.count == 2 else { continue }
            let day = String(parts[1])
            var entry = days[day] ?? Summary.Day(day: day, orders: 0, revenue: .zero)
            if parts[0] == "orders" { entry.orders = Int(value) } else { entry.revenue = Money(cents: value) }
            days[day] = entry
        }
        return Summary(totalOrders: Int(totals["orders"] ?? 0), ordersByStatus: byStatus, revenue: Money(cents: revenue),
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
        guard (1...1000).contains(limit) else { throw Failure.invalid("limit must be between 1 and 1000, got \(limit)") }
        let keys = try await view(SummaryProjection.name, applied: minPosition)
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
        let names = try await newestNames(of: figures.map(\.email))
        for index in figures.indices { figures[index].name = names[index] }
        return figures
    }

    /// Each customer's name on their newest order: the latest creation time in the order read
    /// model's customer index (milliseconds; within one, the greatest order id), or "" when the
    /// customer has no order left there.
    private func newestNames(of emails: [String]) async throws -> [String] {
        guard !emails.isEmpty else { return [] }
        let keys = ViewKeys(keys: log.keys, projection: OrderProjection.name,
                            generation: try await LiveGenerations(log: log).live(OrderProjection.name))
        let newest = try await log.redis.pipeline(emails.map { RedisCommand("ZRANGE", keys.byCustomer($0), 0, 0, "REV") })
            .map { try $0.orThrow().array?.first?.string }
        let found = newest.compactMap { $0 }
        let views = try await self.views(found, keys)
        var byId: [String: String] = [:]
        for view in views { byId[view.orderId] = view.customerName }
        return newest.map { $0.flatMap { byId[$0] } ?? "" }
    }

    private static func pairs(_ reply: RedisValue) throws -> [String: Int64] {
        let flat = reply.array ?? []
        var result: [String: Int64] = [:]
        for index in stride(from: 0, to: flat.count - 1, by: 2) {
            if let key = flat[index].string, let value = flat[index + 1].string.flatMap({ Int64($0) }) { result[key] = value }
        }
        return result
    }
}

extension Array {
    subscript(safe index: Int) -> Element? { indices.contains(index) ? self[index] : nil }
}

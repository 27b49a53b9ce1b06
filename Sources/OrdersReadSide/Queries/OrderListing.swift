import RedisClient
import OrdersDomain
import OrdersEventLog

/// `listOrders`: orders matching every filter, newest first, a page at a time. What a request
/// costs is bounded by what it returns, or by `scanBudget`, never by the size of the log:
///
/// - an empty range (`minTotal` above `maxTotal`, `createdFrom` after `createdTo`) answers at once;
/// - an amount range that holds at most `scanBudget` orders is read from the amount index
///   (`by-total`), its orders ranked newest first by their creation times (one ZMSCORE);
/// - otherwise the most selective time-ordered index (customer, then status, then creation
///   time) is walked newest first within the creation-time range, each record checked against
///   the other filters, for at most `scanBudget` orders. A walk that reaches the budget answers
///   what it found with a `nextCursor` that continues where it stopped: a page may then hold
///   fewer than `limit` orders (even none) although more match further on.
///
/// The cursor is `<createdAt ms>:<orderId>` of the last order looked at.
extension QueryHandler {
    public struct ListFilter: Sendable {
        public var status: OrderStatus?
        public var customerEmail: String?
        public var createdFrom: Timestamp?
        public var createdTo: Timestamp?
        public var minTotal: Money?
        public var maxTotal: Money?

        public init(status: OrderStatus? = nil, customerEmail: String? = nil, createdFrom: Timestamp? = nil,
                    createdTo: Timestamp? = nil, minTotal: Money? = nil, maxTotal: Money? = nil) {
            self.status = status
            self.customerEmail = customerEmail
            self.createdFrom = createdFrom
            self.createdTo = createdTo
            self.minTotal = minTotal
            self.maxTotal = maxTotal
        }

        func matches(_ view: OrderView) -> Bool {
            (status == nil || view.status == status)
                && (customerEmail == nil || TextFolding.fold(view.customerEmail) == TextFolding.fold(customerEmail!))
                && (createdFrom == nil || view.createdAt >= createdFrom!)
                && (createdTo == nil || view.createdAt <= createdTo!)
                && (minTotal == nil || view.total >= minTotal!)
                && (maxTotal == nil || view.total <= maxTotal!)
        }

        /// True when no order can match: a range whose low end is above its high end.
        var isEmpty: Bool {
            if let minTotal, let maxTotal, minTotal > maxTotal { return true }
            if let createdFrom, let createdTo, createdFrom > createdTo { return true }
            return false
        }

        var hasAmountRange: Bool { minTotal != nil || maxTotal != nil }
    }

    public struct Page: Sendable {
        public var orders: [OrderView]
        /// Pass back as `cursor` for the next page; nil on the last page.
        public var nextCursor: String?
        /// Orders this request read (records fetched): what it cost.
        public var examined: Int
    }

    /// A position in the newest-first order: creation time, then order id (both descending).
    struct Position: Comparable {
        let ms: Int64
        let id: String
        static func < (a: Position, b: Position) -> Bool { (a.ms, a.id) < (b.ms, b.id) }
        var cursor: String { "\(ms):\(id)" }
    }

    public func list(_ filter: ListFilter, limit: Int = 50, cursor: String? = nil,
                     minPosition: LogPosition? = nil) async throws -> Page {
        guard (1...1000).contains(limit) else { throw ReadSideError.invalid("limit must be between 1 and 1000, got \(limit)") }
        let after = try cursor.map(Self.position(fromCursor:))
        let keys = try await view(OrderProjection.name, applied: minPosition)
        if filter.isEmpty { return Page(orders: [], nextCursor: nil, examined: 0) }
        if filter.hasAmountRange {
            let low = filter.minTotal.map { String($0.cents) } ?? "-inf", high = filter.maxTotal.map { String($0.cents) } ?? "+inf"
            let inRange = try await log.redis.send("ZCOUNT", keys.byTotal, low, high).int ?? 0
            if inRange == 0 { return Page(orders: [], nextCursor: nil, examined: 0) }
            if inRange <= scanBudget {
                return try await listByAmount(filter, low: low, high: high, limit: limit, after: after, keys)
            }
        }
        return try await walkNewestFirst(filter, limit: limit, after: after, keys)
    }

    static func position(fromCursor cursor: String) throws -> Position {
        let parts = cursor.split(separator: ":", maxSplits: 1)
        guard parts.count == 2, let ms = Int64(parts[0]), Identifier.isValid(String(parts[1])) else {
            throw ReadSideError.invalid("cursor '\(cursor.prefix(80))' is not one this server gave out")
        }
        return Position(ms: ms, id: String(parts[1]))
    }

    /// The orders of a small amount range, newest first: every id in the range, ranked by
    /// creation time, then records read in pages until `limit` match.
    private func listByAmount(_ filter: ListFilter, low: String, high: String, limit: Int, after: Position?,
                              _ keys: ViewKeys) async throws -> Page {
        let ids = (try await log.redis.send("ZRANGE", keys.byTotal, low, high, "BYSCORE").array ?? []).compactMap(\.string)
        guard !ids.isEmpty else { return Page(orders: [], nextCursor: nil, examined: 0) }
        let scores = try await log.redis.send(RedisCommand("ZMSCORE", [keys.byCreated] + ids)).array ?? []
        let from = filter.createdFrom?.milliseconds ?? .min, to = filter.createdTo?.milliseconds ?? .max
        var ranked: [Position] = []
        for (id, score) in zip(ids, scores) {
            guard let ms = score.string.flatMap({ Double($0) }).map({ Int64($0) }), ms >= from, ms <= to else { continue }
            let position = Position(ms: ms, id: id)
            if let after, position >= after { continue } // at or before the cursor
            ranked.append(position)
        }
        ranked.sort(by: >)
        var found: [OrderView] = []
        var examined = 0
        var start = 0
        while found.count <= limit && start < ranked.count {
            let page = ranked[start..<min(ranked.count, start + limit + 1)]
            start += page.count
            examined += page.count
            found += try await views(page.map { $0.id }, keys).filter(filter.matches)
        }
        return Self.page(found, limit: limit, examined: examined)
    }

    /// Walks a time-ordered index newest first, at most `scanBudget` orders.
    private func walkNewestFirst(_ filter: ListFilter, limit: Int, after: Position?, _ keys: ViewKeys) async throws -> Page {
        let index = filter.customerEmail.map { keys.byCustomer($0) } ?? filter.status.map { keys.byStatus($0) } ?? keys.byCreated
        var upper = filter.createdTo.map { String($0.milliseconds) } ?? "+inf"
        if let after { upper = String(min(after.ms, filter.createdTo?.milliseconds ?? after.ms)) }
        let lower = filter.createdFrom.map { String($0.milliseconds) } ?? "-inf"

        var found: [OrderView] = []
        var examined = 0
        var offset = 0
        var last: Position?
        while examined < scanBudget {
            let chunk = min(max(limit * 2, 100), scanBudget - examined)
            let reply = try await log.redis.send("ZRANGE", index, upper, lower, "BYSCORE", "REV", "LIMIT", offset, chunk, "WITHSCORES")
            let entries = reply.pairs
            var positions: [Position] = []
            for (member, score) in entries {
                guard let id = member.string, let score = score.string.flatMap({ Double($0) }) else { continue }
                let position = Position(ms: Int64(score), id: id)
                if let after, position >= after { continue } // at or before the cursor
                positions.append(position)
            }
            let views = try await views(positions.map { $0.id }, keys)
            examined += positions.count
            var byId: [String: OrderView] = [:]
            for view in views { byId[view.orderId] = view }
            for position in positions {
                last = position
                if let view = byId[position.id], filter.matches(view) {
                    found.append(view)
                    if found.count == limit + 1 { return Self.page(found, limit: limit, examined: examined) }
                }
            }
            if entries.count < chunk { return Self.page(found, limit: limit, examined: examined) } // the index is done
            offset += chunk
        }
        // The budget ran out before the page filled: what was found, and where to go on from.
        return Page(orders: found, nextCursor: last?.cursor, examined: examined)
    }

    /// A page of `limit` from `found` (which holds `limit + 1` when there are more).
    private static func page(_ found: [OrderView], limit: Int, examined: Int) -> Page {
        let page = Array(found.prefix(limit))
        let next = found.count > limit ? page.last.map { Position(ms: $0.createdAt.milliseconds, id: $0.orderId).cursor } : nil
        return Page(orders: page, nextCursor: next, examined: examined)
    }
}

extension QueryHandler {
    /// How many orders match `filter`, and whether that is exact. A filter of one kind (a status,
    /// a customer, a creation-time range, an amount range) is counted by its index (ZCOUNT);
    /// one that combines kinds is counted by walking the listing, up to `countBudget` orders
    /// examined, past which the count is a lower bound (`exact` false).
    public func count(_ filter: ListFilter, minPosition: LogPosition? = nil,
                      countBudget: Int = 100_000) async throws -> (count: Int, exact: Bool) {
        let keys = try await view(OrderProjection.name, applied: minPosition)
        if filter.isEmpty { return (0, true) }
        let lower = filter.createdFrom.map { String($0.milliseconds) } ?? "-inf"
        let upper = filter.createdTo.map { String($0.milliseconds) } ?? "+inf"
        let hasTimeRange = filter.createdFrom != nil || filter.createdTo != nil
        let index: (key: String, low: String, high: String)?
        switch (filter.status, filter.customerEmail, filter.hasAmountRange) {
        case (nil, nil, false): index = (keys.byCreated, lower, upper)
        case (let status?, nil, false): index = (keys.byStatus(status), lower, upper)
        case (nil, let email?, false): index = (keys.byCustomer(email), lower, upper)
        case (nil, nil, true) where !hasTimeRange:
            index = (keys.byTotal, filter.minTotal.map { String($0.cents) } ?? "-inf", filter.maxTotal.map { String($0.cents) } ?? "+inf")
        default: index = nil
        }
        if let index {
            return (try await log.redis.send("ZCOUNT", index.key, index.low, index.high).int ?? 0, true)
        }
        var counted = 0, examined = 0
        var cursor: String?
        repeat {
            let page = try await list(filter, limit: 1000, cursor: cursor, minPosition: nil)
            counted += page.orders.count
            examined += page.examined
            cursor = page.nextCursor
        } while cursor != nil && examined < countBudget
        return (counted, cursor == nil)
    }
}

import OrdersDomain
import OrdersEventLog

/// The queries of a store of several partitions: each partition's read models answer for its
/// own orders (a `QueryHandler` each), and this fans a query out and merges the answers into
/// the one a store of one partition would give (tests compare both).
///
/// - One order: its partition alone (known from its id).
/// - Lists, newest first: every partition's page after the cursor, merged by position. The
///   cursor (`<createdAt ms>:<orderId>`) is a point in the one newest-first order of all
///   orders, so it means the same in every partition. A partition that stopped early (its page
///   full, or its scan budget spent) has only been read down to its own cursor: the merged page
///   keeps what lies above the highest such point and goes on from there.
/// - A customer's orders: their partition alone (a customer's orders are kept together).
/// - Counts and the summary: sums (the average from the summed revenue and its order count).
/// - Top customers: each partition's top `limit`, merged. A customer's orders, and so their
///   figures, are all in one partition: the union holds the true top `limit`.
/// - Read-your-writes: each position of `minPositions` names the partition of a write; those
///   partitions' models are waited for (the latest position in each), the others are read as
///   they are (the writes are not in them).
public final class PartitionedQueries: Sendable {
    public let layout: StoreLayout
    /// Every partition's log, which its handler reads.
    public let logs: StoreLogs
    /// One per partition, by partition number.
    public let partitions: [QueryHandler]

    public init(logs: StoreLogs, freshnessWait: Duration = .seconds(2), maxWaiting: Int = 256,
                searchIndexLimit: Int = 2_000, scanBudget: Int = 2_000) {
        self.layout = logs.layout
        self.logs = logs
        self.partitions = logs.partitions.map {
            QueryHandler(log: $0, freshnessWait: freshnessWait, maxWaiting: maxWaiting,
                         searchIndexLimit: searchIndexLimit, scanBudget: scanBudget)
        }
    }

    /// What partition `partition` waits for: the latest of the positions of writes there.
    private func applied(_ minPositions: [StorePosition], in partition: Int) -> LogPosition? {
        minPositions.filter { $0.partition == partition }.map(\.position).max()
    }

    /// Runs `query` on every partition at once, each told the position it must wait for (the
    /// latest of `minPositions` in it, or none); answers in partition order. How a
    /// query of a new read model fans out.
    public func inEveryPartition<T: Sendable>(minPositions: [StorePosition],
                                              _ query: @escaping @Sendable (QueryHandler, LogPosition?) async throws -> T) async throws -> [T] {
        try await everyPartition { index, handler in try await query(handler, self.applied(minPositions, in: index)) }
    }

    /// Runs `query` on every partition at once; answers in partition order.
    private func everyPartition<T: Sendable>(_ query: @escaping @Sendable (Int, QueryHandler) async throws -> T) async throws -> [T] {
        try await inParallel(partitions, query)
    }

    // MARK: - Orders

    public func order(_ orderId: String, minPositions: [StorePosition] = []) async throws -> OrderView {
        let partition = layout.partition(ofOrder: orderId)
        return try await partitions[partition].order(orderId, minPosition: applied(minPositions, in: partition))
    }

    public func orderDocument(_ orderId: String, minPositions: [StorePosition] = []) async throws -> [UInt8] {
        let partition = layout.partition(ofOrder: orderId)
        return try await partitions[partition].orderDocument(orderId, minPosition: applied(minPositions, in: partition))
    }

    public func list(_ filter: QueryHandler.ListFilter, limit: Int = 50, cursor: String? = nil,
                     minPositions: [StorePosition] = []) async throws -> QueryHandler.Page {
        if let email = filter.customerEmail {
            let partition = layout.partition(ofCustomer: email)
            return try await partitions[partition].list(filter, limit: limit, cursor: cursor, minPosition: applied(minPositions, in: partition))
        }
        let pages = try await everyPartition { index, handler in
            try await handler.list(filter, limit: limit, cursor: cursor, minPosition: self.applied(minPositions, in: index))
        }
        typealias Position = QueryHandler.Position
        func position(_ view: OrderView) -> Position { Position(ms: view.createdAt.milliseconds, id: view.orderId) }
        // The highest point some partition was not read below: nothing under it is known yet.
        let boundary = try pages.compactMap { try $0.nextCursor.map(QueryHandler.position(fromCursor:)) }.max()
        let merged = pages.flatMap(\.orders)
            .filter { boundary == nil || position($0) >= boundary! }
            .sorted { position($0) > position($1) }
        let page = Array(merged.prefix(limit))
        let next: String?
        if merged.count > limit { next = page.last.map { position($0).cursor } } else { next = boundary?.cursor }
        return QueryHandler.Page(orders: page, nextCursor: next, examined: pages.reduce(0) { $0 + $1.examined })
    }

    public func count(_ filter: QueryHandler.ListFilter, minPositions: [StorePosition] = [],
                      countBudget: Int = 100_000) async throws -> (count: Int, exact: Bool) {
        if let email = filter.customerEmail {
            let partition = layout.partition(ofCustomer: email)
            return try await partitions[partition].count(filter, minPosition: applied(minPositions, in: partition), countBudget: countBudget)
        }
        let counts = try await everyPartition { index, handler in
            try await handler.count(filter, minPosition: self.applied(minPositions, in: index), countBudget: countBudget / self.partitions.count)
        }
        return (counts.reduce(0) { $0 + $1.count }, counts.allSatisfy(\.exact))
    }

    /// Each partition's newest `limit` matches, merged newest first.
    public func search(_ query: String, limit: Int = 50, minPositions: [StorePosition] = []) async throws -> [OrderView] {
        let found = try await everyPartition { index, handler in
            try await handler.search(query, limit: limit, minPosition: self.applied(minPositions, in: index))
        }
        return Array(found.joined().sorted {
            ($0.createdAt.milliseconds, $0.orderId) > ($1.createdAt.milliseconds, $1.orderId)
        }.prefix(limit))
    }

    // MARK: - Sales

    public func summary(minPositions: [StorePosition] = []) async throws -> QueryHandler.Summary {
        let parts = try await everyPartition { index, handler in
            try await handler.summary(minPosition: self.applied(minPositions, in: index))
        }
        var byStatus: [OrderStatus: Int] = [:]
        var amounts: [OrderStatus: Money] = [:]
        var days: [String: QueryHandler.Summary.Day] = [:]
        for part in parts {
            for (status, count) in part.ordersByStatus { byStatus[status, default: 0] += count }
            for (status, amount) in part.amountByStatus { amounts[status, default: .zero] += amount }
            for day in part.days {
                var entry = days[day.day] ?? QueryHandler.Summary.Day(day: day.day, orders: 0, revenue: .zero)
                entry.orders += day.orders
                entry.revenue += day.revenue
                days[day.day] = entry
            }
        }
        let revenue = parts.reduce(Money.zero) { $0 + $1.revenue }
        let counted = parts.reduce(0) { $0 + $1.revenueOrders }
        return QueryHandler.Summary(
            totalOrders: parts.reduce(0) { $0 + $1.totalOrders }, ordersByStatus: byStatus, amountByStatus: amounts,
            revenue: revenue, revenueOrders: counted,
            averageOrderValue: Money(cents: QueryHandler.average(revenue.cents, over: Int64(counted))),
            days: days.values.sorted { $0.day < $1.day })
    }

    public func topCustomers(limit: Int = 10, byRevenue: Bool = true, minPositions: [StorePosition] = []) async throws -> [QueryHandler.CustomerFigures] {
        let tops = try await everyPartition { index, handler in
            try await handler.topCustomers(limit: limit, byRevenue: byRevenue, minPosition: self.applied(minPositions, in: index))
        }
        let ranked = tops.joined().sorted { a, b in
            let (x, y) = byRevenue ? (a.revenue.cents, b.revenue.cents) : (Int64(a.orders), Int64(b.orders))
            return x != y ? x > y : a.email < b.email
        }
        return Array(ranked.prefix(limit))
    }
}

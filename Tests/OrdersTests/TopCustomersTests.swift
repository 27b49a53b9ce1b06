import Foundation
@testable import OrdersDomain
@testable import OrdersEventLog
@testable import OrdersWriteSide
@testable import OrdersReadSide
import RedisClient
import Testing
import TestSupport

/// topCustomers after live projection and after a rebuild: the same names, the same exact sums.
@Suite(.enabled(if: TestRedis.shouldRun))
struct TopCustomersTests {
    @Test func aCustomerIsNamedByTheirNewestOrderLiveAndAfterARebuild() async throws {
        let store = try await makeStore("names")
        let handler = CommandHandler(repository: OrderRepository(store: store))
        var last: LogPosition?
        for name in ["Ann Old", "Ann Middle", "Ann Lee-Newest"] {
            // Creation times have millisecond precision: let each order have a later one.
            let previous = Timestamp.now().milliseconds
            while Timestamp.now().milliseconds == previous { await Task.yield() }
            last = try await handler.handle(.init(orderId: nil, command: .create(customerName: name, customerEmail: "ann@example.com",
                                                                                 items: sampleItems))).lastPosition
        }
        try await projectLive(store, upTo: last)
        let queries = QueryHandler(log: store.log)
        #expect(try await queries.topCustomers().map(\.name) == ["Ann Lee-Newest"])
        let before = try await liveReadModels(store)

        try await ReplayService(log: store.log, dropGrace: .milliseconds(50)).rebuild(["order", "summary"])
        #expect(try await queries.topCustomers().map(\.name) == ["Ann Lee-Newest"])
        #expect(try await liveReadModels(store) == before, "the rebuild equals the live models key for key")
    }

    /// Orders whose totals add up to `cents`: lines of 10,000 × 1,000,000.00 and one tail line,
    /// at most 100 lines an order.
    private func orders(totalling cents: Int64) -> [[OrderItem]] {
        let top = Money(cents: 100_000_000)
        var result: [[OrderItem]] = []
        var remaining = cents
        while remaining > 0 {
            let order = min(remaining, 99 * 1_000_000_000_000)
            var lines: [OrderItem] = []
            var full = order / 100_000_000
            while full > 0 {
                let quantity = Int(min(full, 10_000))
                lines.append(OrderItem(sku: "L\(lines.count)", name: "Line", quantity: quantity, unitPrice: top))
                full -= Int64(quantity)
            }
            if order % 100_000_000 > 0 {
                lines.append(OrderItem(sku: "TAIL", name: "Tail", quantity: 1, unitPrice: Money(cents: order % 100_000_000)))
            }
            result.append(lines)
            remaining -= order
        }
        return result
    }

    @Test func revenuePast2To53CentsStaysExactAndRanksExactly() async throws {
        let store = try await makeStore("exact")
        let handler = CommandHandler(repository: OrderRepository(store: store))
        let twoTo53: Int64 = 9_007_199_254_740_992
        // b's sum is one cent above a's; as doubles both are 2^53, so a score alone would rank a
        // (by email) first. The whale's odd sum has no double at all.
        let sums: [(String, Int64)] = [("whale@example.com", 9_099_990_809_000_091), ("a@example.com", twoTo53),
                                       ("b@example.com", twoTo53 + 1)]
        var last: LogPosition?
        for (email, cents) in sums {
            for items in orders(totalling: cents) {
                last = try await handler.handle(.init(orderId: nil, command: .create(customerName: "C", customerEmail: email,
                                                                                     items: items))).lastPosition
            }
        }
        try await projectLive(store, upTo: last)
        let queries = QueryHandler(log: store.log)
        let top = try await queries.topCustomers(limit: 2)
        #expect(top.map(\.email) == ["whale@example.com", "b@example.com"], "ranked by exact sums")
        #expect(top.map(\.revenue) == [Money(cents: sums[0].1), Money(cents: sums[2].1)])
        #expect(try await queries.summary().revenue == Money(cents: sums.map(\.1).reduce(0, +)))

        let before = try await liveReadModels(store)
        try await ReplayService(log: store.log, dropGrace: .milliseconds(50)).rebuild(["summary"])
        #expect(try await queries.topCustomers(limit: 2) == top)
        #expect(try await liveReadModels(store)["summary"] == before["summary"], "scores and exact sums equal after a rebuild")
    }
}

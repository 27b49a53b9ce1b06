import Foundation
@testable import OrdersDomain
@testable import OrdersEventLog
@testable import OrdersWriteSide
@testable import OrdersReadSide
import RedisClient
import Testing
import TestSupport

/// What a list request costs is bounded by what it returns or by the scan budget, never by the
/// size of the store: counted as orders read, not as time.
@Suite(.enabled(if: TestRedis.shouldRun))
struct ListingCostTests {
    /// 600 orders created one after another; order i totals 10.00 + i cents; even ones confirmed.
    private func store() async throws -> EventStore {
        let store = try await makeStore("listing")
        let handler = CommandHandler(repository: OrderRepository(store: store))
        var last: LogPosition?
        for i in 0..<600 {
            let item = OrderItem(sku: "S", name: "Thing", quantity: 1, unitPrice: Money(cents: Int64(1000 + i)))
            let created = try await handler.handle(.init(orderId: nil, command: .create(customerName: "C \(i)", customerEmail: "c\(i % 7)@example.com",
                                                                                       items: [item])))
            last = created.lastPosition
            if i % 2 == 0 {
                last = try await handler.handle(.init(orderId: created.orderId, command: .updateStatus(.confirmed))).lastPosition
            }
        }
        try await Projector(projection: OrderProjection(), log: store.log, settings: quickSettings("live")).drainAll(upTo: last)
        return store
    }

    @Test func listCostIsBoundedByWhatItReturnsOrByTheBudget() async throws {
        let store = try await store()
        let queries = QueryHandler(log: store.log, scanBudget: 100)

        let empty = try await queries.list(.init(minTotal: Money(cents: 450), maxTotal: .zero))
        #expect(empty.orders.isEmpty && empty.examined == 0, "an empty range answers at once")

        let narrow = try await queries.list(.init(minTotal: Money(cents: 1_500), maxTotal: Money(cents: 1_504)), limit: 20)
        #expect(narrow.orders.map(\.total.cents).sorted() == [1_500, 1_501, 1_502, 1_503, 1_504])
        #expect(narrow.examined == 5, "a small amount range is read from the amount index")
        #expect(narrow.orders.map(\.createdAt) == narrow.orders.map(\.createdAt).sorted(by: >), "newest first")

        let common = try await queries.list(.init(status: .pending, minTotal: .zero, maxTotal: Money(cents: 99_999)), limit: 10)
        #expect(common.orders.count == 10 && common.examined <= 100, "a broad query reads about a page: \(common.examined)")

        // Confirmed orders under 12.00: the newest 200 confirmed ones are all dearer, so the walk
        // reaches its budget with nothing found, and says where to go on.
        let filter = QueryHandler.ListFilter(status: .confirmed, minTotal: Money(cents: 1_000), maxTotal: Money(cents: 1_199))
        var cursor: String?
        var found: [OrderView] = []
        var pages = 0
        repeat {
            let page = try await queries.list(filter, limit: 50, cursor: cursor)
            #expect(page.examined <= 100, "every request stays within the budget: \(page.examined)")
            found += page.orders
            cursor = page.nextCursor
            pages += 1
        } while cursor != nil && pages < 50
        #expect(found.map(\.total.cents).sorted() == stride(from: 1_000, through: 1_198, by: 2).map { Int64($0) },
                "following the cursors gives every match once")
        let order = found.map { ($0.createdAt.milliseconds, $0.orderId) }
        #expect(zip(order, order.dropFirst()).allSatisfy { $0 > $1 }, "newest first (within a millisecond, by order id)")
    }
}

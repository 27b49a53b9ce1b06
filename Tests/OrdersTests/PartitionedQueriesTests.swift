import Foundation
import Synchronization
@testable import OrdersDomain
@testable import OrdersEventLog
@testable import OrdersWriteSide
@testable import OrdersReadSide
import RedisClient
import Testing
import TestSupport

/// Every query of a store of four partitions answers what a store of one partition holding the
/// same orders answers: the same commands (same ids, same times) go to both, both are
/// projected, and the answers are compared. (`Scripts/test` runs this on the cluster too.)
@Suite(.enabled(if: TestRedis.shouldRun))
struct PartitionedQueriesTests {
    static let customers = (0..<9).map { ("Customer \($0)", "c\($0)@example.com") }

    /// The same random history in both stores: ids that hash to their customer's partition of
    /// four, times from one shared clock (some equal, so ties are broken by id).
    func twinStores(commands: Int, seed: UInt64) async throws -> (single: EventStore, split: EventStore, ids: [String]) {
        let single = try await makeStore("twin1")
        let split = try await makePartitionedStore("twin4", partitions: 4)
        let clock = Mutex(Int64(1_796_000_000_000))
        let now: @Sendable () -> Timestamp = { Timestamp(milliseconds: clock.withLock { $0 }) }
        let handlers = [single, split].map { CommandHandler(repository: OrderRepository(store: $0), clock: now) }
        var generator = SeededGenerator(seed: seed)
        var ids: [String] = []
        for _ in 0..<commands {
            // Both stores see the same time; every other command the same as the one before.
            let step = Int64.random(in: 0...1, using: &generator)
            clock.withLock { $0 += step }
            let roll = Int.random(in: 0..<100, using: &generator)
            let request: CommandHandler.Request
            if ids.isEmpty || roll < 35 {
                let customer = Self.customers.randomElement(using: &generator)!
                var id: String
                repeat { id = "o-\(UInt32.random(in: 0...UInt32.max, using: &generator))" }
                while split.layout.partition(ofOrder: id) != split.layout.partition(ofCustomer: customer.1)
                request = .init(orderId: id, command: .create(customerName: customer.0, customerEmail: customer.1,
                                                              items: randomItems(using: &generator)))
            } else {
                request = .init(orderId: ids.randomElement(using: &generator)!, command: randomChange(roll, using: &generator))
            }
            var outcomes: [Bool] = []
            for handler in handlers { outcomes.append(try await handledUnlessRefused(handler, request) != nil) }
            #expect(outcomes[0] == outcomes[1], "both stores decide alike")
            if outcomes[0], case .create = request.command { ids.append(request.orderId!) }
        }
        try await projectLive(single.log, upTo: try await single.log.lastPosition())
        for log in split.logs.partitions { try await projectLive(log, upTo: try await log.lastPosition()) }
        return (single, split, ids)
    }

    /// Every page of a listing, walked to its end: the orders' ids in order.
    func walk(_ page: (String?) async throws -> QueryHandler.Page) async throws -> [String] {
        var ids: [String] = []
        var cursor: String?
        var pages = 0
        repeat {
            let next = try await page(cursor)
            ids += next.orders.map(\.orderId)
            cursor = next.nextCursor
            pages += 1
        } while cursor != nil && pages < 1000
        return ids
    }

    @Test(arguments: [2_000, 4])
    func everyQueryAnswersAsOnOnePartition(scanBudget: Int) async throws {
        let (single, split, ids) = try await twinStores(commands: 220, seed: 23)
        #expect(Set(ids.map { split.layout.partition(ofOrder: $0) }).count == 4, "the orders fill every partition")
        let one = QueryHandler(log: single.log, scanBudget: scanBudget)
        let four = PartitionedQueries(logs: split.logs, scanBudget: scanBudget)

        for id in ids {
            let expected = (try? await one.orderDocument(id)).map { String(decoding: $0, as: UTF8.self) }
            let merged = (try? await four.orderDocument(id)).map { String(decoding: $0, as: UTF8.self) }
            #expect(merged == expected, "order \(id)")
        }
        let times = ids.count > 10 ? try await one.order(ids[ids.count / 2]).createdAt : nil
        var filters: [QueryHandler.ListFilter] = [.init()]
        filters += OrderStatus.allCases.map { .init(status: $0) }
        filters += Self.customers.prefix(4).map { .init(customerEmail: $0.1.uppercased()) }
        filters += [.init(createdFrom: times), .init(createdTo: times), .init(minTotal: Money(cents: 5_000)),
                    .init(status: .pending, maxTotal: Money(cents: 20_000)), .init(customerEmail: "c1@example.com", createdFrom: times)]
        for filter in filters {
            for limit in [1, 7, 100] {
                let expected = try await walk { try await one.list(filter, limit: limit, cursor: $0) }
                let merged = try await walk { try await four.list(filter, limit: limit, cursor: $0) }
                #expect(merged == expected, "\(filter), limit \(limit)")
            }
            let count = try await four.count(filter)
            #expect(count.count == (try await one.count(filter)).count && count.exact, "\(filter)")
        }
        for query in ["blue", "customer 3", "c2", "sku-1 tea", "o-1", "lamp"] {
            for limit in [3, 1000] {
                let expected = try await one.search(query, limit: limit).map(\.orderId)
                #expect(try await four.search(query, limit: limit).map(\.orderId) == expected, "\(query), limit \(limit)")
            }
        }
        #expect(try await four.summary() == (try await one.summary()))
        for limit in [1, 3, 10] {
            for byRevenue in [true, false] {
                let expected = try await one.topCustomers(limit: limit, byRevenue: byRevenue)
                #expect(try await four.topCustomers(limit: limit, byRevenue: byRevenue) == expected, "top \(limit), by revenue \(byRevenue)")
            }
        }
    }

    @Test func readYourWritesWaitsInThePartitionOfTheWrite() async throws {
        let split = try await makePartitionedStore("ryw4", partitions: 4)
        let handler = CommandHandler(repository: OrderRepository(store: split))
        let created = try await handler.handle(.init(orderId: nil, command: .create(customerName: "Ann", customerEmail: "ann@example.com", items: sampleItems)))
        let partition = split.layout.partition(ofOrder: created.orderId)
        let position = StorePosition(partition: partition, position: created.lastPosition)
        let queries = PartitionedQueries(logs: split.logs, freshnessWait: .seconds(30))
        let projecting = Task { try await projectLive(split.logs.partitions[partition], upTo: created.lastPosition) }
        // Waits for the projection of the write's partition, then finds the order.
        #expect(try await queries.order(created.orderId, minPositions: [position]).orderId == created.orderId)
        #expect(try await queries.summary(minPositions: [position]).totalOrders == 1)
        try await projecting.value
        #expect(StorePosition(position.description, partitions: 4) == position)
        #expect(StorePosition(created.lastPosition.description, partitions: 4) == nil, "a bare position names no partition of four")
        #expect(StorePosition(created.lastPosition.description, partitions: 1)?.position == created.lastPosition)
    }

    @Test func aClientsIdMustHashToItsCustomersPartition() async throws {
        let split = try await makePartitionedStore("ids4", partitions: 4)
        let handler = CommandHandler(repository: OrderRepository(store: split))
        let target = split.layout.partition(ofCustomer: "ann@example.com")
        var wrong = 0
        while split.layout.partition(ofOrder: "id-\(wrong)") == target { wrong += 1 }
        await #expect(throws: CommandHandler.Failure.self) {
            try await handler.handle(.init(orderId: "id-\(wrong)", command: .create(customerName: "Ann", customerEmail: "ann@example.com", items: sampleItems)))
        }
        #expect(try await split.logs.ofOrder("id-\(wrong)").version(of: "id-\(wrong)") == 0, "nothing was written")
    }
}

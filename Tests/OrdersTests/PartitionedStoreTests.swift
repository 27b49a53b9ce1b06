import Foundation
import OrdersDomain
import OrdersEventLog
import OrdersWriteSide
import RedisClient
import Testing
import TestSupport

/// The write side of a store of several partitions: every order's events, its log entries, its
/// command ids and snapshots in the order's partition; a customer's new orders together; versions,
/// conflicts and retries as on one partition. (`Scripts/test` runs this on the cluster too.)
@Suite(.enabled(if: TestRedis.shouldRun))
struct PartitionedStoreTests {
    func create(_ handler: CommandHandler, customer: Int, commandId: String? = nil) async throws -> AppendResult {
        try await handler.handle(CommandHandler.Request(
            orderId: nil, command: .create(customerName: "Customer \(customer)", customerEmail: "c\(customer)@example.com", items: sampleItems),
            commandId: commandId))
    }

    @Test func eachOrderLivesInItsPartitionAndACustomersOrdersTogether() async throws {
        let store = try await makePartitionedStore(partitions: 4)
        let handler = CommandHandler(repository: OrderRepository(store: store, snapshotEvery: 2))
        var byPartition: [Int: Set<String>] = [:]
        for customer in 0..<8 {
            let target = store.layout.partition(ofCustomer: "c\(customer)@example.com")
            for _ in 0..<3 {
                let created = try await create(handler, customer: customer)
                let partition = store.layout.partition(ofOrder: created.orderId)
                #expect(partition == target, "a new order lands in its customer's partition")
                byPartition[partition, default: []].insert(created.orderId)
                // Two more events: the second crosses snapshotEvery, so a snapshot is written too.
                _ = try await handler.handle(.init(orderId: created.orderId, command: .updateStatus(.confirmed)))
                _ = try await handler.handle(.init(orderId: created.orderId, command: .updateStatus(.processing)))
            }
        }
        #expect(byPartition.count > 1, "eight customers spread over more than one of four partitions")
        for keys in store.layout.partitions {
            let log = store.logs.partitions[keys.partition]
            let entries = try await log.readLog(after: nil, limit: 10_000)
            let mine = byPartition[keys.partition] ?? []
            #expect(Set(entries.map(\.orderId)) == mine, "partition \(keys.partition)'s log names its orders only")
            #expect(entries.count == mine.count * 3)
            for orderId in mine {
                #expect(try await store.redis.send("EXISTS", keys.stream(orderId)) == .integer(1))
                #expect(try await store.redis.send("EXISTS", keys.snapshot(orderId)) == .integer(1))
                let loaded = try await OrderRepository(store: store).load(orderId)
                #expect(loaded.version == 3 && loaded.state?.status == .processing)
            }
        }
    }

    @Test func commandIdsAreFoundInEveryPartition() async throws {
        let store = try await makePartitionedStore(partitions: 4)
        let handler = CommandHandler(repository: OrderRepository(store: store))
        let commandId = "retry-\(UUID().uuidString.prefix(8))"
        let first = try await create(handler, customer: 1, commandId: commandId)
        let again = try await create(handler, customer: 1, commandId: commandId)
        #expect(again.duplicate && again.orderId == first.orderId && again.positions == first.positions)
        #expect(try await store.recordedResult(commandId: commandId)?.orderId == first.orderId)

        // The same id on an order of another partition is not a retry of the first command.
        var other: AppendResult
        var customer = 2
        repeat {
            other = try await create(handler, customer: customer)
            customer += 1
        } while store.layout.partition(ofOrder: other.orderId) == store.layout.partition(ofOrder: first.orderId)
        await #expect(throws: CommandHandler.Failure.self) {
            try await handler.handle(.init(orderId: other.orderId, command: .updateStatus(.confirmed), commandId: commandId))
        }
        #expect(try await store.logs.ofOrder(other.orderId).version(of: other.orderId) == 1, "nothing was written")
    }

    @Test func versionsAndConflictsArePerOrder() async throws {
        let store = try await makePartitionedStore(partitions: 3)
        let orders = (0..<12).map { _ in newOrderId() }
        for orderId in orders {
            let first = try await store.append(orderId: orderId, expected: .noStream, events: [event("A"), event("B")])
            #expect(first.version == 2)
            let stale = await failure { try await store.append(orderId: orderId, expected: .exactly(1), events: [event("C")]) }
            #expect(stale == .concurrencyConflict(orderId: orderId, expected: .exactly(1), actual: 2))
            #expect(try await store.logs.ofOrder(orderId).events(of: orderId).map(\.version) == [1, 2])
        }
        let total = try await store.logs.partitions.asyncMap { try await $0.appendedEvents() }.reduce(0, +)
        #expect(total == 24)
    }
}

extension Array where Element: Sendable {
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var results: [T] = []
        for element in self { results.append(try await transform(element)) }
        return results
    }
}

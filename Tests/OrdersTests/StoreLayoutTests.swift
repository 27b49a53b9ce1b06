import OrdersEventLog
import RedisClient
import Testing

/// Where a partitioned store puts things: pure, no server.
struct StoreLayoutTests {
    @Test func aStoreOfOnePartitionKeepsTheLayoutOfBefore() {
        let layout = StoreLayout(namespace: "orders")
        #expect(layout.count == 1)
        #expect(layout.partitions[0].log == "orders:{0}:log")
        #expect(layout.keys(ofOrder: "any-order") == KeySchema(namespace: "orders"))
    }

    /// Each partition's tag hashes into its own P-th of the slots, so masters holding equal slot
    /// ranges (as `redis-cli --cluster create` splits them) hold equal shares of partitions.
    @Test(arguments: [2, 3, 5, 16, 64, 1024])
    func tagsSpreadOverTheSlots(count: Int) {
        let layout = StoreLayout(namespace: "orders", partitionCount: count)
        #expect(Set(layout.partitions.map(\.tag)).count == count)
        for keys in layout.partitions {
            let slot = HashSlot.of(keys.log)
            #expect(slot >= keys.partition * HashSlot.count / count && slot < (keys.partition + 1) * HashSlot.count / count,
                    "partition \(keys.partition)'s tag \(keys.tag) hashes to slot \(slot)")
            #expect(keys.log.hasPrefix("orders:{\(keys.tag)}:"))
        }
    }

    @Test func sixteenPartitionsOnThreeMastersAreFiveOrSixEach() {
        let layout = StoreLayout(namespace: "orders", partitionCount: 16)
        let masters = [0...5460, 5461...10922, 10923...16383]
        let shares = masters.map { range in layout.partitions.filter { range.contains(HashSlot.of($0.log)) }.count }
        #expect(shares.allSatisfy { (5...6).contains($0) }, "\(shares)")
    }

    /// The partition is a function of the id alone (stable across builds: FNV-1a), and random
    /// ids fill every partition.
    @Test func anOrdersPartitionComesFromItsId() {
        let layout = StoreLayout(namespace: "orders", partitionCount: 16)
        #expect(layout.partition(ofOrder: "4b1c1f0e-7d0c-4c3e-9b8e-2f1a6d5c3b2a") == layout.partition(ofOrder: "4b1c1f0e-7d0c-4c3e-9b8e-2f1a6d5c3b2a"))
        #expect(layout.partition(ofOrder: "a") == 12)  // FNV-1a("a") = 0xe40c292c; mod 16 = 12
        var counts = [Int](repeating: 0, count: 16)
        for index in 0..<16_000 { counts[layout.partition(ofOrder: "order-\(index)")] += 1 }
        #expect(counts.allSatisfy { $0 > 800 && $0 < 1200 }, "\(counts)")
        #expect(layout.partition(ofCustomer: "Ann@Example.com") == layout.partition(ofCustomer: "ann@example.com"))
    }
}

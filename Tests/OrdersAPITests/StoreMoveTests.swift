import Foundation
import OrdersAPI
import OrdersEventLog
import OrdersWriteSide
import RedisClient
import Testing
import TestSupport

/// `orders move-store`, as an operator runs it: a store served on a single Redis is stopped,
/// moved to the Redis Cluster and served from there, with every order, its read models, its
/// command ids (a retry still answers the first result) and its projectors' progress intact.
/// A store of one partition lands on one master; one of four spreads by its tags. The move
/// refuses while an instance runs and when the target holds the store already.
/// (Uses both Redis of `Scripts/test`, so it is not rerun with the cluster as its Redis.)
@Suite(.enabled(if: TestRedis.shouldRun && ProcessInfo.processInfo.environment[TestRedis.clusterVariable] != nil))
struct StoreMoveTests {
    @Test(arguments: [1, 4])
    func aStoppedStoreMovesToTheClusterAndIsServedThere(partitions: Int) async throws {
        let binary = ServiceProcess.binary(besides: CommandLine.arguments[0])
        let (single, cluster) = (try TestRedis.url(), try TestRedis.clusterURL())
        let namespace = TestRedis.uniqueNamespace("move")

        let before = try ServiceProcess(binary: binary, redis: single, namespace: namespace, extraArguments: ["--partitions", "\(partitions)"])
        try await before.start()
        let created = try await onThreads(1) { [port = before.port] _ in
            let client = try OrdersClient(port: port)
            return try (0..<12).map { index in
                let reply = try client.call("createOrder", ["customerName": "Mover \(index % 5)", "customerEmail": "m\(index % 5)@example.com",
                                                            "commandId": "move-\(index)",
                                                            "items": [["sku": "M", "name": "Box", "quantity": index + 1, "unitPrice": "2.50"]]])
                let orderId = (reply as! [String: Any])["orderId"] as! String
                if index % 3 == 0 { _ = try client.call("updateStatus", ["orderId": orderId, "status": "confirmed"]) }
                return orderId
            }
        }[0]
        let sourceRedis = RedisClient(url: single)
        let sourceStore = EventStore(redis: sourceRedis, layout: try await StoreCatalog.open(sourceRedis, namespace: namespace))
        try await StoreAudit(store: sourceStore).converge(within: .seconds(60))

        let move = [binary, "move-store", "--redis", single.description, "--to", cluster.description, "--namespace", namespace]
        let whileRunning = try ChildProcess.output(move)
        #expect(whileRunning.status == 1 && whileRunning.stderr.contains("an instance still runs"), "\(whileRunning)")
        #expect(before.terminate() == 0)
        let modelsBefore = try await StoreAudit(store: sourceStore).liveModels()

        let moved = try ChildProcess.output(move)
        #expect(moved.status == 0 && moved.stdout.contains("moved store \(namespace)") && moved.stdout.contains("12 orders"), "\(moved)")
        #expect(moved.stdout.contains("\(partitions) partition"), "\(moved.stdout)")
        let again = try ChildProcess.output(move)
        #expect(again.status == 1 && again.stderr.contains("already holds store \(namespace)"), "\(again)")

        let targetRedis = RedisClient(url: cluster)
        let layout = try await StoreCatalog.open(targetRedis, namespace: namespace)
        #expect(layout.count == partitions, "the store keeps its partitions (and an order's partition its id's hash)")
        let targetAudit = StoreAudit(store: EventStore(redis: targetRedis, layout: layout))
        #expect(try await targetAudit.liveModels() == modelsBefore, "the read models moved as they were")
        let after = try ServiceProcess(binary: binary, redis: cluster, namespace: namespace)
        try await after.start()
        defer { after.kill() }
        let (found, total, retried, updated) = try await onThreads(1) { [port = after.port] _ in
            let client = try OrdersClient(port: port)
            let found = created.filter { (try? client.call("getOrder", ["orderId": $0])) != nil }.count
            let total = (try client.call("summary") as! [String: Any])["totalOrders"] as? Int
            // A retry of a command sent before the move answers the first result, writes nothing.
            let retried = try client.call("createOrder", ["customerName": "Mover 0", "customerEmail": "m0@example.com", "commandId": "move-0",
                                                          "items": [["sku": "M", "name": "Box", "quantity": 1, "unitPrice": "2.50"]]]) as! [String: Any]
            // A moved order takes its next command; the projectors go on from their checkpoints.
            let next = try client.call("updateStatus", ["orderId": created[1], "status": "confirmed"]) as! [String: Any]
            let read = try client.call("getOrder", ["orderId": created[1], "minPosition": next["position"] as! String]) as! [String: Any]
            let sameResult = retried["orderId"] as? String == created[0] && retried["duplicate"] as? Bool == true
            return (found, total, sameResult, read["status"] as? String)
        }[0]
        #expect(found == created.count)
        #expect(total == created.count)
        #expect(retried, "the retry answered the first command's order, marked duplicate")
        #expect(updated == "confirmed")
        try await targetAudit.converge(within: .seconds(60))
        #expect(after.terminate() == 0)
        #expect(try await targetAudit.rebuildEquals(try await targetAudit.liveModels()), "read models equal a rebuild from the moved logs")
    }
}

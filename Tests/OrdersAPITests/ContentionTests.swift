import Foundation
import Orders
import OrdersAPI
import Testing
import TestSupport

@Suite(.enabled(if: TestRedis.shouldRun))
struct ContentionTests {
    /// 100 clients move 10 hot orders along their status flow, each naming the version it read.
    /// Every refusal must be a concurrency_conflict with a newer actual version, and each order's
    /// final version must be 1 + the updates accepted for it: no lost update, no double write.
    @Test func hotOrdersLoseNoUpdateAndEveryRefusalIsAConflict() async throws {
        let server = try await TestServer()
        defer { Task { await server.stop() } }
        let flow = ["pending", "confirmed", "processing", "shipped", "delivered"]
        let orderIds = try await onThreads(1) { _ in
            let client = try server.client()
            return try (0..<10).map { _ in (try client.call("createOrder", createRequest) as! [String: Any])["orderId"] as! String }
        }[0]

        let outcomes = try await onThreads(100) { worker -> (accepted: [String: Int], conflicts: Int, wrong: [String]) in
            let client = try server.client()
            var accepted: [String: Int] = [:]
            var conflicts = 0
            var wrong: [String] = []
            for round in 0..<8 {
                let orderId = orderIds[(worker + round) % orderIds.count]
                let history = try client.call("orderHistory", ["orderId": orderId]) as! [String: Any]
                let events = history["events"] as! [[String: Any]]
                let status = (events.last!["data"] as? [String: Any])?["to"] as? String ?? "pending"
                guard let index = flow.firstIndex(of: status), index + 1 < flow.count else { continue } // delivered
                do {
                    _ = try client.call("updateStatus", ["orderId": orderId, "status": flow[index + 1], "expectedVersion": events.count])
                    accepted[orderId, default: 0] += 1
                } catch let failure as OrdersClient.Failure {
                    if failure.code == "concurrency_conflict", let actual = failure.actualVersion, actual > events.count {
                        conflicts += 1
                    } else {
                        wrong.append("\(failure.code): \(failure.message) (actual \(failure.actualVersion.map(String.init) ?? "none"))")
                    }
                }
            }
            return (accepted, conflicts, wrong)
        }

        #expect(outcomes.flatMap(\.wrong).isEmpty, "\(outcomes.flatMap(\.wrong).prefix(5))")
        #expect(outcomes.map(\.conflicts).reduce(0, +) > 0, "the clients did contend")
        for orderId in orderIds {
            let accepted = outcomes.compactMap { $0.accepted[orderId] }.reduce(0, +)
            let version = try await server.store.version(of: orderId)
            #expect(version == 1 + accepted, "order \(orderId): version \(version), accepted \(accepted)")
            let versions = try await server.store.events(of: orderId).map(\.version)
            #expect(versions == Array(1...version))
        }
    }
}

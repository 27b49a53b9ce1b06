import Foundation
import OrdersDomain
import OrdersEventLog
import OrdersWriteSide
import OrdersReadSide
import OrdersAPI

/// Suite 4: many clients move a few hot orders along their status flow, each naming the version
/// it read. No update is lost (each order's final version is 1 + the updates accepted for it)
/// and every refusal is a `concurrency_conflict` carrying a newer actual version.
public struct ContentionSuite: Sendable {
    public var clients: Int
    public var orders: Int
    public var rounds: Int

    public init(clients: Int = 100, orders: Int = 10, rounds: Int = 20) {
        self.clients = clients
        self.orders = orders
        self.rounds = rounds
    }

    static let flow = ["pending", "confirmed", "processing", "shipped", "delivered"]

    public func run(_ environment: SoakEnvironment) async throws -> SuiteReport {
        var report = SuiteReport(suite: "4 contention")
        let started = ContinuousClock.now
        let namespace = environment.namespace("contention")
        let service = try environment.service(namespace)
        try await service.start()
        defer { service.kill() }
        let port = service.port
        // Enough orders for every round to find one not yet delivered: `orders` hot at a time.
        let orderIds = try await onThreads(1) { [orders, rounds] _ in
            let client = try OrdersClient(port: port)
            return try (0..<(orders * max(1, rounds / 4))).map { _ in
                (try client.call("createOrder", ["customerName": "Hot", "customerEmail": "hot@example.com",
                                                 "items": [["sku": "H", "name": "Hot", "quantity": 1, "unitPrice": "1.00"]]]) as! [String: Any])["orderId"] as! String
            }
        }[0]
        let outcomes = try await onThreads(clients) { [orders, rounds] worker -> (sent: Int, accepted: [String: Int], conflicts: Int, wrong: [String]) in
            let client = try OrdersClient(port: port)
            var sent = 0, conflicts = 0
            var accepted: [String: Int] = [:]
            var wrong: [String] = []
            for round in 0..<rounds {
                let orderId = orderIds[(round / 4) * orders + (worker + round) % orders]
                let history = try client.call("orderHistory", ["orderId": orderId]) as! [String: Any]
                let events = history["events"] as! [[String: Any]]
                let status = (events.last!["data"] as? [String: Any])?["to"] as? String ?? "pending"
                guard let index = Self.flow.firstIndex(of: status), index + 1 < Self.flow.count else { continue }
                sent += 1
                do {
                    _ = try client.call("updateStatus", ["orderId": orderId, "status": Self.flow[index + 1], "expectedVersion": events.count])
                    accepted[orderId, default: 0] += 1
                } catch let failure as OrdersClient.Failure {
                    if failure.code == .concurrencyConflict, let actual = failure.actualVersion, actual > events.count {
                        conflicts += 1
                    } else {
                        wrong.append("\(failure.code.rawValue): \(failure.message) (actual \(failure.actualVersion.map(String.init) ?? "none"))")
                    }
                }
            }
            return (sent, accepted, conflicts, wrong)
        }
        report.sent = outcomes.map(\.sent).reduce(0, +)
        report.acknowledged = outcomes.map { $0.accepted.values.reduce(0, +) }.reduce(0, +)
        let conflicts = outcomes.map(\.conflicts).reduce(0, +)
        report.failures += outcomes.flatMap(\.wrong).prefix(5).map { "refusal that is not a conflict with a newer version: \($0)" }
        let store = environment.store(namespace)
        for orderId in orderIds {
            let accepted = outcomes.compactMap { $0.accepted[orderId] }.reduce(0, +)
            let versions = try await store.log.events(of: orderId).map(\.version)
            if versions.count != 1 + accepted { report.lost += max(0, 1 + accepted - versions.count) }
            if versions.count > 1 + accepted { report.duplicated += versions.count - 1 - accepted }
            if versions != Array(1...max(1, versions.count)) { report.failures.append("order \(orderId) has a gap") }
        }
        if conflicts == 0 { report.failures.append("the clients never contended: the suite proved nothing") }
        report.notes.append("\(clients) clients on \(orders) hot orders at a time: \(report.acknowledged) updates accepted, \(conflicts) conflicts (\(report.sent == 0 ? 0 : conflicts * 100 / report.sent)% of updates)")
        report.seconds = (ContinuousClock.now - started).seconds
        return report
    }
}

import Foundation
import OrdersAPI
import OrdersEventLog
import RedisClient
import Synchronization
import Testing
import TestSupport

/// SIGTERM under load: the service stops taking requests, answers what it took, and exits 0.
@Suite(.enabled(if: TestRedis.shouldRun))
struct ShutdownTests {
    @Test func sigtermUnderLoadAnswersEveryCommandItStoredAndExitsZero() async throws {
        let url = try TestRedis.url()
        let namespace = TestRedis.uniqueNamespace("sigterm")
        let service = try ServiceProcess(binary: ServiceProcess.binary(besides: CommandLine.arguments[0]), redis: url,
                                         namespace: namespace)
        try await service.start()
        let port = service.port
        let answered = Mutex<Set<String>>([])
        let started = Mutex(0)

        // Eight clients send createOrder with command ids, one at a time, until the server
        // closes their connection.
        let clients = Task {
            try await onThreads(8) { client in
                let connection = try OrdersClient(port: port, timeout: .seconds(30))
                for n in 0..<100_000 {
                    let commandId = "c\(client)-\(n)"
                    do {
                        _ = try connection.call("createOrder", [
                            "customerName": "Term \(client)", "customerEmail": "term@example.com", "commandId": commandId,
                            "items": [["sku": "S", "name": "N", "quantity": 1, "unitPrice": "1.00"]]])
                    } catch {
                        return // the server stopped reading and closed
                    }
                    answered.withLock { _ = $0.insert(commandId) }
                    started.withLock { $0 += 1 }
                }
            }
        }
        try await eventually(within: .seconds(60)) { guard started.withLock({ $0 }) >= 200 else { throw CancellationError() } }
        let status = service.terminate()
        _ = try await clients.value

        #expect(status == 0, "the service exits 0 after SIGTERM")
        // Every command the store holds was answered: none was written and then left unanswered.
        // Every partition's log (a store on a cluster has 16).
        let redis = RedisClient(url: url)
        let logs = StoreLogs(redis: redis, layout: try await StoreCatalog.open(redis, namespace: namespace))
        var stored = Set<String>()
        for log in logs.partitions {
            var cursor: LogPosition?
            while true {
                let page = try await log.readLog(after: cursor, limit: 1000)
                guard let last = page.last else { break }
                for event in page { if let id = event.metadata?.commandId { stored.insert(id) } }
                cursor = last.position
            }
        }
        // The projectors let their leases go on the way out (another instance takes over at once).
        let leases = try await redis.sendToEveryPrimary(RedisCommand("KEYS", "\(namespace):*:lease")).flatMap { $0.array ?? [] }
        #expect(leases.isEmpty, "leases left behind: \(leases)")
        let unanswered = stored.subtracting(answered.withLock { $0 })
        #expect(stored.count >= 200)
        #expect(unanswered.isEmpty, "stored but never answered: \(unanswered.sorted().prefix(5))")
    }
}

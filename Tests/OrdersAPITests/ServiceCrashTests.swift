import Foundation
import Orders
import OrdersAPI
import RedisClient
import Synchronization
import Testing
import TestSupport

/// The fast version of the crash suite: the real `orders` binary is killed with SIGKILL three
/// times while a client sends commands with command ids and retries each one (same id) until it
/// is acknowledged. Nothing acknowledged may be lost, nothing may be written twice, versions
/// have no gaps, and the read models end equal to a full rebuild.
@Suite(.enabled(if: TestRedis.shouldRun))
struct ServiceCrashTests {
    /// `orders`, built beside the test runner by `swift test`.
    static var binary: String {
        URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
            .deletingLastPathComponent().appendingPathComponent("orders").path
    }

    final class Service: @unchecked Sendable {
        // @unchecked: the test task alone starts and kills it.
        let port: Int
        let arguments: [String]
        let log: URL
        var child: ChildProcess?

        init(redis: RedisURL, namespace: String) throws {
            port = try RedisServerProcess.freePort()
            arguments = [ServiceCrashTests.binary, "serve", "--redis", "\(redis.description)", "--port", "\(port)", "--namespace", namespace]
            log = FileManager.default.temporaryDirectory.appendingPathComponent("orders-serve-\(namespace).log")
        }

        func start() async throws {
            child = try ChildProcess.spawn(arguments, log: log)
            _ = try await eventually(within: .seconds(20)) {
                try await onThreads(1) { [port] _ in _ = try OrdersClient(port: port, timeout: .seconds(2)).call("health") }
            }
        }

        func crash() {
            child?.stop(SIGKILL)
            child = nil
        }
    }

    @Test func killedRepeatedlyTheServiceLosesNothingAndWritesNothingTwice() async throws {
        #expect(FileManager.default.isExecutableFile(atPath: Self.binary), "the orders binary is built beside the tests")
        let namespace = TestRedis.uniqueNamespace("crash")
        let service = try Service(redis: try TestRedis.url(), namespace: namespace)
        try await service.start()
        defer { service.crash() }

        let acknowledged = Mutex<[String: String]>([:]) // command id → position of its event
        let generator = Task.detached {
            try await onThreads(1) { [port = service.port] _ in
                var created: [String] = []
                for index in 0..<240 {
                    let commandId = "cmd-\(index)"
                    var request: [String: Any] = ["commandId": commandId]
                    let op: String
                    if index % 3 == 2, let orderId = created.randomElement() {
                        op = "cancelOrder"
                        request["orderId"] = orderId
                    } else {
                        op = "createOrder"
                        request.merge(createRequest) { $1 }
                    }
                    // Retry with the same command id until the service answers (it may be down).
                    let deadline = ContinuousClock.now + .seconds(60)
                    while true {
                        do {
                            let result = try OrdersClient(port: port, timeout: .seconds(5)).call(op, request) as! [String: Any]
                            acknowledged.withLock { $0[commandId] = result["position"] as? String ?? "" }
                            if op == "createOrder" { created.append(result["orderId"] as! String) }
                            break
                        } catch let failure as OrdersClient.Failure where ["invalid_transition", "not_found"].contains(failure.code) {
                            break // a refusal: the order was already cancelled; nothing written
                        } catch {
                            guard ContinuousClock.now < deadline else { throw error }
                            usleep(20_000)
                        }
                    }
                }
            }
        }
        for threshold in [40, 100, 170] {
            try await eventually(within: .seconds(60)) {
                guard acknowledged.withLock({ $0.count }) >= threshold else { throw CancellationError() }
            }
            service.crash()
            try await service.start()
        }
        _ = try await generator.value

        let redis = RedisClient(url: try TestRedis.url())
        let store = EventStore(redis: redis, keys: KeySchema(namespace: namespace))
        let log = try await store.readLog(after: nil, limit: 100_000)
        var byCommand: [String: Int] = [:]
        for event in log { byCommand[event.metadata?.commandId ?? "none", default: 0] += 1 }
        let results = acknowledged.withLock { $0 }
        for (commandId, position) in results {
            #expect(byCommand[commandId] == 1, "\(commandId) acknowledged at \(position) is stored \(byCommand[commandId] ?? 0) times")
        }
        #expect(byCommand.values.allSatisfy { $0 == 1 }, "no command wrote twice")
        #expect(Set(byCommand.keys) == Set(results.keys), "nothing was written that was not acknowledged in the end")
        for orderId in Set(log.map(\.orderId)) {
            let versions = try await store.events(of: orderId).map(\.version)
            #expect(versions == Array(1...versions.count), "order \(orderId) has gaps")
        }

        // The running service's read models, once caught up, equal a full rebuild.
        let last = try #require(log.last?.position)
        let monitor = ProjectionMonitor(store: store)
        try await eventually(within: .seconds(60)) {
            for name in ["order", "summary"] where try await !monitor.hasPassed(last, projection: name, generation: 1) {
                throw CancellationError()
            }
        }
        let live = try await dumpReadModel(store, ViewKeys(keys: store.keys, projection: "order", generation: 1))
        let liveSummary = try await dumpReadModel(store, ViewKeys(keys: store.keys, projection: "summary", generation: 1))
        service.crash() // stop projecting into generation 1 before comparing with a rebuild
        try await ReplayService(repository: OrderRepository(store: store), dropGrace: .zero).rebuild(["order", "summary"])
        let generations = LiveGenerations(store: store)
        #expect(try await dumpReadModel(store, ViewKeys(keys: store.keys, projection: "order",
                                                          generation: try await generations.live("order"))) == live)
        #expect(try await dumpReadModel(store, ViewKeys(keys: store.keys, projection: "summary",
                                                          generation: try await generations.live("summary"))) == liveSummary)
    }
}

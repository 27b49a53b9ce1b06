import Foundation
import OrdersDomain
import OrdersEventLog
import OrdersWriteSide
import OrdersReadSide
import OrdersAPI
import Synchronization

/// Suite 2: Redis is killed under load and started again from its AOF (`appendfsync always`).
/// During the outage every request gets `unavailable` at once (no hang past the command
/// timeout, no crash); afterwards the service recovers by itself and the checks of suite 1 hold
/// for everything acknowledged.
public struct OutageSuite: Sendable {
    public var workers: Int
    public var commands: Int
    public var outage: Duration
    public var duration: Duration

    public init(workers: Int = 8, commands: Int = 12_000, outage: Duration = .seconds(4), duration: Duration = .seconds(90)) {
        self.workers = workers
        self.commands = commands
        self.outage = outage
        self.duration = duration
    }

    public func run(_ environment: SoakEnvironment) async throws -> SuiteReport {
        var report = SuiteReport(suite: "2 redis outage")
        guard let redisServer = environment.redisServer else {
            report.failures.append("needs a private redis-server to kill")
            return report
        }
        let started = ContinuousClock.now
        let namespace = environment.namespace("outage")
        let (services, ledger, load) = try await environment.startLoad(namespace, workers: workers, commands: commands,
                                                                       duration: duration)
        let service = services[0]
        try await ledger.waitUntilAnswered(commands / 3, within: duration)

        redisServer.kill()
        report.crashes += 1
        // Probe while Redis is down: reads and writes must answer `unavailable`, quickly.
        let (answers, slowest) = try await onThreads(1) { [outage, port = service.port] _ -> ([String: Int], Duration) in
            let end = ContinuousClock.now + outage
            var answers: [String: Int] = [:]
            var slowest = Duration.zero
            usleep(200_000) // requests already in flight when Redis died may still have succeeded
            var index = 0
            while ContinuousClock.now < end {
                index += 1
                let began = ContinuousClock.now
                let code: String
                do {
                    let client = try OrdersClient(port: port, timeout: .seconds(30))
                    _ = try client.call(index % 2 == 0 ? "summary" : "createOrder",
                                        index % 2 == 0 ? [:] : ["customerName": "Probe", "customerEmail": "probe@example.com",
                                                                 "items": [["sku": "P", "name": "Probe", "quantity": 1, "unitPrice": "1.00"]]])
                    code = "ok"
                } catch let failure as OrdersClient.Failure {
                    code = failure.code.rawValue
                }
                slowest = max(slowest, ContinuousClock.now - began)
                answers[code, default: 0] += 1
                usleep(50_000)
            }
            return (answers, slowest)
        }[0]
        try redisServer.start() // same folder: the AOF brings the data back
        try await environment.awaitRedis()
        let other = answers.filter { $0.key != "unavailable" }
        if !other.isEmpty { report.failures.append("during the outage some requests were answered \(other)") }
        if slowest > .seconds(5) { report.failures.append("an answer during the outage took \(slowest)") }
        report.notes.append("outage of \(outage): \(answers.values.reduce(0, +)) probe requests, all answered \(answers.keys.sorted().joined(separator: ", ")), slowest in \(Int(slowest.seconds * 1000)) ms")

        report.sent = try await load.value
        try await audit(&report, ledger: ledger, store: environment.store(namespace), services: [service])
        report.seconds = (ContinuousClock.now - started).seconds
        return report
    }
}

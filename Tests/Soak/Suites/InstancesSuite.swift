import Foundation
import OrdersDomain
import OrdersEventLog
import OrdersWriteSide
import OrdersReadSide

/// Suite 3: three `orders serve` processes share one Redis and namespace; commands are spread
/// across them and one is killed mid-run (and stays dead: its pending log entries must be claimed
/// by the others). The read models end equal to a full rebuild, so no event was projected twice.
public struct InstancesSuite: Sendable {
    public var instances: Int
    public var workers: Int
    public var commands: Int
    public var duration: Duration

    public init(instances: Int = 3, workers: Int = 12, commands: Int = 15_000, duration: Duration = .seconds(90)) {
        self.instances = instances
        self.workers = workers
        self.commands = commands
        self.duration = duration
    }

    public func run(_ environment: SoakEnvironment) async throws -> SuiteReport {
        var report = SuiteReport(suite: "3 several instances")
        let started = ContinuousClock.now
        let namespace = environment.namespace("instances")
        let (services, ledger, load) = try await environment.startLoad(namespace, services: instances, workers: workers,
                                                                       commands: commands, duration: duration)
        try await ledger.waitUntilAnswered(commands / 2, within: duration)
        services[0].kill()
        report.crashes += 1
        report.sent = try await load.value
        // The dead instance's pending entries wait for the claim timeout before another takes them.
        try await audit(&report, ledger: ledger, store: environment.store(namespace), services: services)
        report.notes.append("\(instances) instances, one killed after \(commands / 2) answers and not restarted")
        report.seconds = (ContinuousClock.now - started).seconds
        return report
    }
}

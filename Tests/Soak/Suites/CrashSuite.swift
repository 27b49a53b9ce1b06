import Foundation
import OrdersDomain
import OrdersEventLog
import OrdersWriteSide
import OrdersReadSide

/// Suite 1: the service is killed with SIGKILL at random moments while the load generator sends
/// commands with ids and retries each until acknowledged. Afterwards every acknowledged
/// command's event exists exactly once, in the log and in its stream, streams have no gaps,
/// nothing is left pending, and the read models equal a full rebuild.
public struct CrashSuite: Sendable {
    public var workers: Int
    public var commands: Int
    public var kills: Int
    public var duration: Duration

    public init(workers: Int = 16, commands: Int = 40_000, kills: Int = 6, duration: Duration = .seconds(120)) {
        self.workers = workers
        self.commands = commands
        self.kills = kills
        self.duration = duration
    }

    public func run(_ environment: SoakEnvironment) async throws -> SuiteReport {
        var report = SuiteReport(suite: "1 crash of the service")
        let started = ContinuousClock.now
        let namespace = environment.namespace("crash")
        let (services, ledger, load) = try await environment.startLoad(namespace, workers: workers, commands: commands,
                                                                       duration: duration)
        let service = services[0]
        var random = SeededGenerator(seed: 1)
        let killEvery = commands / (kills + 1)
        for kill in 1...kills {
            // Kill once enough has been answered since the last restart, plus a random moment.
            let threshold = kill * killEvery
            do {
                try await ledger.waitUntilAnswered(threshold, within: duration)
            } catch { break } // the load ended first (its duration): fewer kills
            usleep(UInt32.random(in: 0...200_000, using: &random))
            service.kill()
            report.crashes += 1
            try await service.start()
        }
        report.sent = try await load.value
        try await audit(&report, ledger: ledger, store: environment.store(namespace), services: [service])
        report.seconds = (ContinuousClock.now - started).seconds
        return report
    }
}


import Foundation
import RedisClient
import Testing
import TestSupport

/// The failover suite (soak suites 10–13), small, on the Sentinel setup of `Scripts/test`
/// (`Scripts/sentinel-up`): the primary is killed under a load of commands with command ids and
/// retries, Sentinel promotes a replica, the service follows it. With durability `replicated`
/// nothing acknowledged is lost or doubled; with `local` nothing is doubled, and what was lost
/// (the replica had not received it) is reported. Read models equal a rebuild either way.
@Suite(.enabled(if: TestRedis.shouldRunOnSentinel), .serialized)
struct FailoverTests {
    @Test(arguments: ["replicated", "local"])
    func killingThePrimaryUnderLoad(durability: String) async throws {
        let setup = try TestRedis.sentinel()
        let environment = SoakEnvironment(binary: ServiceProcess.binary(besides: CommandLine.arguments[0]), url: setup.url, testbeds: [setup])
        let report = try await FailoverSuite(fault: .kill, durability: durability, workers: 4, commands: 600, duration: .seconds(60))
            .run(environment)
        for note in report.notes { print("failover (\(durability)): \(note)") }
        #expect(report.failures.isEmpty, "\(report.failures)")
        #expect(report.acknowledged > 0)
        #expect(report.duplicated == 0)
        #expect(report.rebuildEqual == true)
        if durability == "replicated" { #expect(report.lost == 0, "acknowledged after WAIT, then lost") }
    }
}

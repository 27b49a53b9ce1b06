import Foundation
import Testing
import TestSupport

/// The fast versions of the reliability suites: the same code `Scripts/soak` runs full size,
/// against the real `orders` binary (built beside the tests) and a private redis-server each.
@Suite(.enabled(if: TestRedis.shouldRun), .serialized)
struct ReliabilitySuiteTests {
    func run(_ suite: any SoakSuite) async throws {
        let binary = ServiceProcess.binary(besides: CommandLine.arguments[0])
        #expect(FileManager.default.isExecutableFile(atPath: binary), "the orders binary is built beside the tests")
        let redis = try RedisServerProcess(arguments: ["--appendfsync", "always"])
        try redis.start()
        defer { redis.kill() }
        let report = try await suite.run(SoakEnvironment(binary: binary, redisServer: redis))
        #expect(report.passed, "\(SuiteReport.table([report]))")
        #expect(report.sent > 0)
    }

    /// Killed five times with SIGKILL under load: nothing acknowledged lost, nothing written
    /// twice, no gaps, nothing left pending, read models equal a rebuild.
    @Test func crashOfTheService() async throws {
        try await run(CrashSuite(workers: 4, commands: 300, kills: 5, duration: .seconds(120)))
    }

    /// Redis killed under load and restarted from its AOF: `unavailable` at once meanwhile, then
    /// recovery by itself, and the same checks.
    @Test func redisOutage() async throws {
        try await run(OutageSuite(workers: 4, commands: 200, outage: .seconds(2), duration: .seconds(120)))
    }

    /// Three services on one Redis, one killed and left dead: its pending entries are claimed by
    /// the others and the read models equal a rebuild.
    @Test func severalInstances() async throws {
        try await run(InstancesSuite(workers: 6, commands: 300, duration: .seconds(120)))
    }

    /// Hot orders with expected versions: no lost update, every refusal a conflict with a newer version.
    @Test func contention() async throws {
        try await run(ContentionSuite(clients: 30, orders: 5, rounds: 8))
    }

    /// A rebuild started through the API while a client queries: every answer shows every order once.
    @Test func rebuildUnderQueries() async throws {
        try await run(RebuildUnderQueriesSuite(orders: 300, writers: 8))
    }

    /// Mutated and random lines and HTTP messages with idle and slow-loris connections open:
    /// documented codes only, nothing written by an invalid request, the server alive and serving.
    @Test func hostileInput() async throws {
        try await run(HostileInputSuite(requests: 5_000, httpRequests: 1_000, idleConnections: 200))
    }

    /// A fuzzer driven by the OpenAPI document alone finds no 5xx and no answer outside it.
    @Test func openAPIFuzzer() async throws {
        try await run(OpenAPIFuzzSuite(requests: 600))
    }

    /// A real Prometheus scrapes the service under load and counts the events the log holds.
    @Test func metricsScrapedByPrometheus() async throws {
        try await run(MetricsSuite(workers: 4, commands: 400, duration: .seconds(30)))
    }
}

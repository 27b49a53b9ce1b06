import Foundation
import Soak
import RedisClient

/// The reliability suites, full size, against a private redis-server and the `orders` binary
/// built beside this one. Usage:
///   orders-soak [--suites 1,2,3,4,5,6,7,8,9] [--small] [--cluster redis://HOST:PORT]
/// Suite 9 moves slots of the Redis Cluster given by `--cluster` (Scripts/soak starts one).
/// Prints one table (sent, acknowledged, lost, duplicated, crashes survived, bad inputs, rebuild
/// equal) and exits non-zero if any suite failed. Bounded: every suite has a duration cap, and a
/// suite that would start after `budget` is reported as not run.
let arguments = Array(CommandLine.arguments.dropFirst())
func option(_ name: String) -> String? {
    guard let index = arguments.firstIndex(of: name), index + 1 < arguments.count else { return nil }
    return arguments[index + 1]
}
let chosen = Set((option("--suites") ?? "1,2,3,4,5,6,7,8,9").split(separator: ",").compactMap { Int($0) })
let small = arguments.contains("--small")
let budget = Duration.seconds(Int(option("--budget-seconds") ?? "") ?? 540)

let binary = ServiceProcess.binary(besides: CommandLine.arguments[0])
guard FileManager.default.isExecutableFile(atPath: binary) else {
    FileHandle.standardError.write(Data("orders-soak: \(binary) not found; build the orders product first\n".utf8))
    exit(2)
}
let redis = try RedisServerProcess(arguments: ["--appendfsync", "always"])
try redis.start()
let cluster = try option("--cluster").map { try RedisURL($0) }
let environment = SoakEnvironment(binary: binary, redisServer: redis, cluster: cluster)
let started = ContinuousClock.now

let suites: [(Int, String, any SoakSuite)] = [
    (1, "1 crash of the service", small ? CrashSuite(workers: 4, commands: 400, kills: 5, duration: .seconds(60)) : CrashSuite()),
    (2, "2 redis outage", small ? OutageSuite(workers: 4, commands: 300, outage: .seconds(2), duration: .seconds(60)) : OutageSuite()),
    (3, "3 several instances", small ? InstancesSuite(workers: 6, commands: 600, duration: .seconds(60)) : InstancesSuite()),
    (4, "4 contention", small ? ContentionSuite(clients: 30, orders: 5, rounds: 8) : ContentionSuite()),
    (5, "5 hostile input", small ? HostileInputSuite(requests: 5_000, httpRequests: 1_000, idleConnections: 200) : HostileInputSuite()),
    (6, "6 rebuild under queries", small ? RebuildUnderQueriesSuite(orders: 500) : RebuildUnderQueriesSuite()),
    (7, "7 metrics scraped", small ? MetricsSuite(workers: 4, commands: 400, duration: .seconds(30)) : MetricsSuite()),
    (8, "8 OpenAPI fuzzer", small ? OpenAPIFuzzSuite(requests: 500) : OpenAPIFuzzSuite()),
    (9, "9 cluster resharding", small ? ReshardSuite(workers: 4, commands: 800, moves: 2, duration: .seconds(60)) : ReshardSuite()),
]
var reports: [SuiteReport] = []
for (number, name, suite) in suites where chosen.contains(number) {
    guard ContinuousClock.now - started < budget else {
        var skipped = SuiteReport(suite: name)
        skipped.failures.append("not run: the soak's time budget was spent")
        reports.append(skipped)
        continue
    }
    FileHandle.standardError.write(Data("orders-soak: running suite \(name)…\n".utf8))
    do {
        reports.append(try await suite.run(environment))
    } catch {
        var failed = SuiteReport(suite: name)
        failed.failures.append("the suite stopped: \(error)")
        reports.append(failed)
    }
}
redis.kill()
print(SuiteReport.table(reports))
print("total: \(Int((ContinuousClock.now - started).seconds)) s")
exit(reports.allSatisfy(\.passed) ? 0 : 1)

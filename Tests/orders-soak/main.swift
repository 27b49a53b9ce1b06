import Foundation
import Soak
import RedisClient

/// The reliability suites, full size, against a private redis-server and the `orders` binary
/// built beside this one. Usage:
///   orders-soak [--suites 1,…,15] [--small] [--cluster redis://HOST:PORT --cluster-data DIR --cluster-first-port N]
///               [--sentinel redis-sentinel://…/orders --sentinel-data DIR --sentinel-first-port N]
/// Suite 9 moves slots of the Redis Cluster given by `--cluster`; suites 10–13 break the primary
/// of the Sentinel setup given by `--sentinel`, 14–15 a master of the cluster (Scripts/soak
/// starts both).
/// Prints one table (sent, acknowledged, lost, duplicated, crashes survived, bad inputs, rebuild
/// equal) and exits non-zero if any suite failed. Bounded: every suite has a duration cap, and a
/// suite that would start after `budget` is reported as not run.
let arguments = Array(CommandLine.arguments.dropFirst())
func option(_ name: String) -> String? {
    guard let index = arguments.firstIndex(of: name), index + 1 < arguments.count else { return nil }
    return arguments[index + 1]
}
let chosen = Set((option("--suites") ?? "1,2,3,4,5,6,7,8,9,10,11,12,13,14,15").split(separator: ",").compactMap { Int($0) })
let small = arguments.contains("--small")
let budget = Duration.seconds(Int(option("--budget-seconds") ?? "") ?? 840)

let binary = ServiceProcess.binary(besides: CommandLine.arguments[0])
guard FileManager.default.isExecutableFile(atPath: binary) else {
    FileHandle.standardError.write(Data("orders-soak: \(binary) not found; build the orders product first\n".utf8))
    exit(2)
}
let redis = try RedisServerProcess(arguments: ["--appendfsync", "always"])
try redis.start()
let cluster = try option("--cluster").map { try RedisURL($0) }
var testbeds: [Testbed] = []
if let sentinel = option("--sentinel") {
    testbeds.append(Testbed(.sentinel, url: try RedisURL(sentinel), data: option("--sentinel-data") ?? ".data/sentinel",
                            firstPort: Int(option("--sentinel-first-port") ?? "") ?? 7201))
}
if let cluster, let data = option("--cluster-data") {
    testbeds.append(Testbed(.cluster, url: cluster, data: data, firstPort: Int(option("--cluster-first-port") ?? "") ?? cluster.port))
}
let environment = SoakEnvironment(binary: binary, redisServer: redis, cluster: cluster, testbeds: testbeds)
let started = ContinuousClock.now

func failover(_ fault: FailoverSuite.Fault, _ durability: String, on testbed: Testbed.Kind = .sentinel) -> FailoverSuite {
    small ? FailoverSuite(fault: fault, durability: durability, on: testbed, workers: 4, commands: 800, duration: .seconds(60))
          : FailoverSuite(fault: fault, durability: durability, on: testbed)
}
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
    (10, "10 failover: kill -9, local", failover(.kill, "local")),
    (11, "11 failover: kill -9, replicated", failover(.kill, "replicated")),
    (12, "12 failover: SIGSTOP, local", failover(.pause, "local")),
    (13, "13 failover: SIGSTOP, replicated", failover(.pause, "replicated")),
    (14, "14 cluster failover: kill -9, local", failover(.kill, "local", on: .cluster)),
    (15, "15 cluster failover: kill -9, replicated", failover(.kill, "replicated", on: .cluster)),
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

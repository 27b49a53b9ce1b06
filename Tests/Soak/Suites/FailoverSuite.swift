import Foundation
import OrdersAPI
import OrdersEventLog
import RedisClient

/// A primary with replicas that a fault suite breaks and mends: the Sentinel setup of
/// `Scripts/sentinel-up` or the cluster of `Scripts/cluster-up`, with its URL, its data folder
/// (each node's pid file is in `<data>/<port>/`) and its first port (the script, run again,
/// starts what is down).
public struct Testbed: Sendable {
    public enum Kind: String, Sendable {
        case sentinel, cluster
    }

    public let kind: Kind
    public let url: RedisURL
    public let data: String
    public let firstPort: Int

    public init(_ kind: Kind, url: RedisURL, data: String, firstPort: Int) {
        self.kind = kind
        self.url = url
        self.data = data
        self.firstPort = firstPort
    }

    var script: String { kind == .sentinel ? "Scripts/sentinel-up" : "Scripts/cluster-up" }
}

/// Suites 10–15, Jepsen-style on this machine: a load of commands with command ids and retries
/// against a service on a Sentinel-watched primary, or on a cluster (a store of 16 partitions),
/// with `durability` local or replicated, and one fault of the primary (on a cluster: the master
/// of partition 0): `kill -9` (a replica is promoted: by the sentinels, or by the cluster), or
/// SIGSTOP past the failover (the old primary, resumed, is demoted). Every acknowledged
/// command is checked in the store afterwards, read models against a rebuild, and the time the
/// service answered `unavailable` is measured by a probe. With `local`, acknowledged commands may
/// be lost (the replica had not received them): that figure is shown, not failed.
public struct FailoverSuite: Sendable {
    public enum Fault: String, Sendable {
        case kill = "kill -9 the primary"
        case pause = "SIGSTOP the primary past the failover"
    }

    public var fault: Fault
    public var durability: String
    public var testbed: Testbed.Kind
    public var workers: Int
    public var commands: Int
    public var duration: Duration
    /// How long a paused primary stays paused (past Sentinel's 1 s down-after and its election).
    public var pauseFor: Duration

    public init(fault: Fault, durability: String, on testbed: Testbed.Kind = .sentinel, workers: Int = 8, commands: Int = 6_000,
                duration: Duration = .seconds(90), pauseFor: Duration = .seconds(6)) {
        self.fault = fault
        self.durability = durability
        self.testbed = testbed
        self.workers = workers
        self.commands = commands
        self.duration = duration
        self.pauseFor = pauseFor
    }

    public var name: String { "failover (\(testbed.rawValue)): \(fault.rawValue), \(durability)" }

    public func run(_ environment: SoakEnvironment) async throws -> SuiteReport {
        var report = SuiteReport(suite: name)
        guard let setup = environment.testbeds.first(where: { $0.kind == testbed }) else {
            report.failures.append("not run: no \(testbed.rawValue) was given (Scripts/soak starts one)")
            return report
        }
        let started = ContinuousClock.now
        let watched = SoakEnvironment(binary: environment.binary, url: setup.url, isCluster: testbed == .cluster)
        let namespace = watched.namespace("failover-\(testbed.rawValue.prefix(3))-\(fault == .kill ? "kill" : "pause")-\(durability.prefix(5))")
        let (services, ledger, load) = try await watched.startLoad(namespace, extraArguments: ["--durability", durability],
                                                                   workers: workers, commands: commands, duration: duration)
        try await ledger.waitUntilAnswered(commands / 3, within: duration)
        // On a cluster, the master of partition 0's slot.
        let slot = HashSlot.of(try await watched.openStore(namespace).layout.partitions[0].log)
        let primary = { try await self.primary(of: setup, slot: slot) }

        let old = try await primary()
        let pidText = try String(contentsOfFile: "\(setup.data)/\(old)/redis.pid", encoding: .utf8)
        guard let pid = pid_t(pidText.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            report.failures.append("no pid for the primary on port \(old)")
            return report
        }
        let probe = Task { try await Self.probe(port: services[0].port, for: .seconds(12)) }
        switch fault {
        case .kill:
            kill(pid, SIGKILL)
        case .pause:
            kill(pid, SIGSTOP)
            try await Task.sleep(for: pauseFor)
            kill(pid, SIGCONT)
        }
        report.crashes += 1
        let new = try await eventually(within: .seconds(30)) {
            let now = try await primary()
            guard now != old else { throw CancellationError() }
            return now
        }
        let (unavailableFor, answers) = try await probe.value
        report.notes.append("primary \(old) → \(new); unavailable for \(Int(unavailableFor.seconds * 1000)) ms "
                            + "(probe answers: \(answers.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")))")

        report.sent = try await load.value
        // The old primary back (a killed one restarted), a replica of the new one.
        let restore = try await ChildProcess.run([setup.script, "\(setup.firstPort)", setup.data],
                                                 log: URL(fileURLWithPath: "\(setup.data)/restore.log"), within: .seconds(60))
        if restore != 0 { report.failures.append("\(setup.script) could not restore the setup (see \(setup.data)/restore.log)") }
        // The suite's own connections to the killed node broke with it: each fails once, then
        // reconnects (or the map sends its commands elsewhere).
        try await watched.awaitRedis()
        let store = try await eventually(within: .seconds(30)) { try await watched.openStore(namespace) }
        let retried = ledger.retriedAttempts
        report.notes.append("attempts answered unavailable: \(retried.unavailable), unanswered: \(retried.unanswered)")
        try await audit(&report, ledger: ledger, store: store, services: services)
        // What `local` promises does not cover a write the replica had not received.
        if durability == "local" && report.lost > 0 {
            report.notes.append("local: \(report.lost) acknowledged commands lost with the primary (shown, not failed: local promises no more)")
            report.lossExpected = true
        }
        report.seconds = (ContinuousClock.now - started).seconds
        return report
    }

    /// The port of the primary now: the one the sentinels name, or the master of `slot` in the
    /// map of any node that answers.
    private func primary(of setup: Testbed, slot: Int) async throws -> Int {
        let askable: [(String, Int)] = setup.kind == .sentinel
            ? setup.url.sentinels.map { ($0.host, $0.port) } : (0..<6).map { (setup.url.host, setup.firstPort + $0) }
        for (host, port) in askable {
            let node = RedisClient(RedisConfiguration(url: RedisURL(host: host, port: port), connections: 1,
                                                      connectTimeout: .milliseconds(500), commandTimeout: .seconds(2)))
            defer { node.close() }
            if setup.kind == .sentinel {
                let reply = try? await node.send("SENTINEL", "get-master-addr-by-name", setup.url.masterName ?? "")
                if let port = reply?.array?.last?.string.flatMap({ Int($0) }) { return port }
            } else {
                // CLUSTER SLOTS: [[first, last, [host, port, id], replicas…], …], straight from this node.
                let ranges = (try? await node.send("CLUSTER", "SLOTS"))?.array ?? []
                for range in ranges {
                    guard let parts = range.array, parts.count >= 3, let first = parts[0].int, let last = parts[1].int,
                          (first...last).contains(slot), let port = parts[2].array?[1].int else { continue }
                    return port
                }
            }
        }
        throw CancellationError()
    }

    /// createOrder every 50 ms for `span`; how long from the first answer that was not a success
    /// to the last one (0: none), and how many of each answer.
    private static func probe(port: Int, for span: Duration) async throws -> (Duration, [String: Int]) {
        try await onThreads(1) { _ -> (Duration, [String: Int]) in
            let end = ContinuousClock.now + span
            var answers: [String: Int] = [:]
            var firstFailure: ContinuousClock.Instant?
            var lastFailure: ContinuousClock.Instant?
            while ContinuousClock.now < end {
                let began = ContinuousClock.now
                var code = "ok"
                do {
                    let client = try OrdersClient(port: port, timeout: .seconds(10))
                    _ = try client.call("createOrder", ["customerName": "Probe", "customerEmail": "probe@example.com",
                                                       "items": [["sku": "P", "name": "Probe", "quantity": 1, "unitPrice": "1.00"]]])
                } catch let failure as OrdersClient.Failure {
                    code = failure.code.rawValue
                } catch {
                    code = "no answer"
                }
                if code != "ok" {
                    firstFailure = firstFailure ?? began
                    lastFailure = ContinuousClock.now
                }
                answers[code, default: 0] += 1
                usleep(50_000)
            }
            guard let firstFailure, let lastFailure else { return (.zero, answers) }
            return (lastFailure - firstFailure, answers)
        }[0]
    }
}

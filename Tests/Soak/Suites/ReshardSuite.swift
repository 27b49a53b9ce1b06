import Foundation
import OrdersEventLog
import RedisClient

/// Suite 9: a store of `partitions` partitions on a Redis Cluster while `redis-cli --cluster
/// reshard` moves the slot that holds partition 0 from one master to another and on to a third,
/// under a load of commands with command ids and retries, served by two instances. Nothing acknowledged may be lost or doubled, and
/// the read models end equal to a rebuild. The moves are real resharding: keys migrate a batch at
/// a time while the service keeps writing, so it meets `ASK`, `TRYAGAIN` and `MOVED`.
public struct ReshardSuite: Sendable {
    public var workers: Int
    public var commands: Int
    public var moves: Int
    public var partitions: Int
    public var duration: Duration

    public init(workers: Int = 8, commands: Int = 12_000, moves: Int = 2, partitions: Int = 16, duration: Duration = .seconds(120)) {
        self.workers = workers
        self.commands = commands
        self.moves = moves
        self.partitions = partitions
        self.duration = duration
    }

    public func run(_ environment: SoakEnvironment) async throws -> SuiteReport {
        var report = SuiteReport(suite: "9 cluster resharding")
        guard let url = environment.cluster else {
            report.failures.append("not run: no Redis Cluster was given (Scripts/soak starts one)")
            return report
        }
        let started = ContinuousClock.now
        let cluster = SoakEnvironment(binary: environment.binary, url: url)
        let namespace = cluster.namespace("reshard")
        let (services, ledger, load) = try await cluster.startLoad(namespace, services: 2, extraArguments: ["--partitions", "\(partitions)"],
                                                                   workers: workers, commands: commands, duration: duration)
        let store = try await cluster.openStore(namespace)
        let slot = HashSlot.of(store.layout.partitions[0].log)
        for move in 1...moves {
            try await ledger.waitUntilAnswered(commands * move / (moves + 1), within: duration)
            let moved = try await moveSlot(slot, in: cluster.redis, url: url)
            report.notes.append("move \(move): slot \(slot) (partition 0 of \(partitions)) and \(moved.slots - 1) others from \(moved.from) to \(moved.to) "
                                + "by redis-cli --cluster reshard under load, \(moved.keys) keys in that slot, \(moved.seconds) s")
        }
        // Even again (a move may have emptied a master): the third move, under load too when the
        // load still runs.
        try await awaitAgreement(url)
        let rebalance = try await runRedisCli(["--cluster", "rebalance", "\(url.host):\(url.port)", "--cluster-use-empty-masters",
                                               "--cluster-pipeline", "100"], log: "rebalance")
        report.notes.append("then redis-cli --cluster rebalance --cluster-use-empty-masters, \(rebalance) s")
        report.sent = try await load.value
        let retried = ledger.retriedAttempts
        report.notes.append("attempts answered unavailable: \(retried.unavailable), unanswered: \(retried.unanswered)")
        try await audit(&report, ledger: ledger, store: store, services: services)
        report.seconds = (ContinuousClock.now - started).seconds
        return report
    }

    /// Moves `slot` to another master with `redis-cli --cluster reshard`, which takes a source's
    /// lowest slots first: it is told to move as many as reach `slot`. Checks the slot's owner after.
    private func moveSlot(_ slot: Int, in redis: RedisClient, url: RedisURL) async throws
        -> (from: ClusterNode, to: ClusterNode, slots: Int, keys: Int, seconds: Int) {
        try await awaitAgreement(url)
        let nodes = try await ClusterNodes.read(from: redis)
        guard let source = nodes.first(where: { $0.slots.contains(slot) }),
              let target = nodes.first(where: { $0.isMaster && !$0.slots.isEmpty && $0.id != source.id }) else {
            throw SoakFailure("no master serves slot \(slot), or no other master to move it to")
        }
        let count = source.slots.filter { $0 <= slot }.count
        var sourceURL = url
        sourceURL.host = source.address.host
        sourceURL.port = source.address.port
        let sourceNode = RedisClient(url: sourceURL)
        defer { sourceNode.close() }
        let keys = try await sourceNode.send("CLUSTER", "COUNTKEYSINSLOT", slot).int ?? 0
        let seconds = try await runRedisCli(["--cluster", "reshard", "\(url.host):\(url.port)",
                                             "--cluster-from", source.id, "--cluster-to", target.id, "--cluster-slots", "\(count)",
                                             "--cluster-yes", "--cluster-pipeline", "100"], log: "reshard")
        let after = try await ClusterNodes.read(from: redis)
        guard after.first(where: { $0.slots.contains(slot) })?.id == target.id else {
            throw SoakFailure("slot \(slot) is not on \(target.address) after the reshard")
        }
        return (source.address, target.address, count, keys, seconds)
    }

    /// Waits until every node agrees on the slots (`redis-cli --cluster check`): the nodes learn
    /// of a move by gossip, and redis-cli refuses to start one while they disagree.
    private func awaitAgreement(_ url: RedisURL) async throws {
        try await eventually(within: .seconds(30)) {
            _ = try await runRedisCli(["--cluster", "check", "\(url.host):\(url.port)"], log: "check")
        }
    }

    /// Runs redis-cli with `arguments` to its end (at most 2 minutes); returns the seconds it took.
    private func runRedisCli(_ arguments: [String], log name: String) async throws -> Int {
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("orders-soak-\(name)-\(getpid()).log")
        try? FileManager.default.removeItem(at: log)
        let started = ContinuousClock.now
        let status = try await ChildProcess.run(["/usr/bin/redis-cli"] + arguments, log: log, within: .seconds(120))
        guard status == 0 else { throw SoakFailure("redis-cli \(arguments.prefix(2).joined(separator: " ")) exited with \(status); see \(log.path)") }
        return Int((ContinuousClock.now - started).seconds.rounded())
    }
}

/// A cluster's masters as `CLUSTER NODES` lists them: id, address, slots.
struct ClusterNodes {
    let id: String
    let address: ClusterNode
    let isMaster: Bool
    let slots: [Int]

    static func read(from redis: RedisClient) async throws -> [ClusterNodes] {
        let text = try await redis.send("CLUSTER", "NODES").string ?? ""
        return text.split(whereSeparator: \.isNewline).compactMap { line in
            let fields = line.split(separator: " ")
            guard fields.count >= 8 else { return nil }
            let flags = fields[2].split(separator: ",")
            let hostPort = fields[1].split(separator: "@")[0]
            guard let colon = hostPort.lastIndex(of: ":"), let port = Int(hostPort[hostPort.index(after: colon)...]) else { return nil }
            var slots: [Int] = []
            for range in fields.dropFirst(8) where !range.hasPrefix("[") {
                let bounds = range.split(separator: "-").compactMap { Int($0) }
                if bounds.count == 2 { slots += Array(bounds[0]...bounds[1]) } else if bounds.count == 1 { slots.append(bounds[0]) }
            }
            return ClusterNodes(id: String(fields[0]), address: ClusterNode(host: String(hostPort[..<colon]), port: port),
                                isMaster: flags.contains("master") && !flags.contains("fail"), slots: slots)
        }
    }
}

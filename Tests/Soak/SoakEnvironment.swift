import Foundation
import OrdersDomain
import OrdersEventLog
import OrdersWriteSide
import OrdersReadSide
import RedisClient

/// What the suites share: the `orders` binary they start, and a Redis of their own. The Redis is
/// a private redis-server with `appendfsync always` (the outage suite kills it and checks that
/// everything acknowledged survives), unless the caller passes one to use (then the outage suite
/// cannot run).
public final class SoakEnvironment: Sendable {
    public let binary: String
    public let redisURL: RedisURL
    public let redisServer: RedisServerProcess?
    public let redis: RedisClient
    public let runId: String

    /// A Redis Cluster (any node of it) for the suites that move slots, when there is one.
    public let cluster: RedisURL?
    /// The setups the failover suites break and mend (a Sentinel setup, the cluster), if given.
    public let testbeds: [Testbed]

    public init(binary: String, redisServer: RedisServerProcess, cluster: RedisURL? = nil, testbeds: [Testbed] = []) {
        self.binary = binary
        self.redisServer = redisServer
        self.redisURL = redisServer.url
        self.redis = RedisClient(RedisConfiguration(url: redisServer.url, connections: 2, commandTimeout: .seconds(30)))
        self.runId = String(UUID().uuidString.prefix(6).lowercased())
        self.cluster = cluster
        self.testbeds = testbeds
    }

    /// The same binary against a Redis the soak did not start (a cluster, when `isCluster`): no
    /// outage suite there.
    public init(binary: String, url: RedisURL, isCluster: Bool = false, testbeds: [Testbed] = []) {
        self.binary = binary
        self.redisServer = nil
        self.redisURL = url
        self.redis = RedisClient(RedisConfiguration(url: url, connections: 2, commandTimeout: .seconds(30)))
        self.runId = String(UUID().uuidString.prefix(6).lowercased())
        self.cluster = isCluster ? url : nil
        self.testbeds = testbeds
    }

    /// After a Redis restart: each of the soak's own connections fails once (the loss is
    /// reported, not hidden) and then reconnects; wait until all answer again.
    public func awaitRedis() async throws {
        try await eventually(within: .seconds(30)) {
            for _ in 0..<4 { try await redis.send("PING") }
        }
    }

    public func namespace(_ suite: String) -> String { "soak-\(suite)-\(runId)" }

    public func store(_ namespace: String) -> EventStore {
        EventStore(redis: redis, keys: KeySchema(namespace: namespace))
    }

    public func service(_ namespace: String, extraArguments: [String] = []) throws -> ServiceProcess {
        try ServiceProcess(binary: binary, redis: redisURL, namespace: namespace, extraArguments: extraArguments)
    }

    /// The store under `namespace` with the partitions it was created with (`StoreCatalog`).
    public func openStore(_ namespace: String) async throws -> EventStore {
        EventStore(redis: redis, layout: try await StoreCatalog.open(redis, namespace: namespace))
    }

    /// Starts `count` services on one namespace and a load generator spread over them; returns
    /// the services, the ledger it records into, and the task that ends with the commands sent.
    func startLoad(_ namespace: String, services count: Int = 1, extraArguments: [String] = [], workers: Int, commands: Int,
                   duration: Duration) async throws -> (services: [ServiceProcess], ledger: CommandLedger, load: Task<Int, any Error>) {
        let services = try (0..<count).map { _ in try service(namespace, extraArguments: extraArguments) }
        for service in services { try await service.start() }
        let ledger = CommandLedger()
        let generator = LoadGenerator(ports: services.map(\.port), workers: workers, commandsPerWorker: commands / workers,
                                      duration: duration, ledger: ledger, runId: namespace)
        return (services, ledger, Task { try await generator.run() })
    }
}

/// The end every write suite shares: audit the store against the ledger, let the projectors
/// catch up, and compare their models with a full rebuild (after stopping the services, so no
/// one else projects meanwhile).
func audit(_ report: inout SuiteReport, ledger: CommandLedger, store: EventStore, services: [ServiceProcess],
           convergeWithin: Duration = .seconds(120)) async throws {
    let audit = StoreAudit(store: store)
    report.add(try await audit.check(ledger))
    report.acknowledged = ledger.acknowledged
    var outcomes: [String: Int] = [:]
    for outcome in ledger.all.values where outcome != .acknowledged {
        switch outcome {
        case .refused(let code): outcomes["refused \(code)", default: 0] += 1
        default: outcomes["never answered (client gave up)", default: 0] += 1
        }
    }
    // The generator only sends commands valid for the state it saw acknowledged: a refusal means
    // the store lost or invented a step.
    let refused = outcomes.filter { $0.key.hasPrefix("refused") }.values.reduce(0, +)
    if refused > 0 { report.failures.append("\(refused) valid commands were refused") }
    if !outcomes.isEmpty {
        report.notes.append("not acknowledged: " + outcomes.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", "))
    }
    for problem in ledger.allProblems.prefix(5) { report.failures.append("unexpected answer: \(problem)") }
    do {
        try await audit.converge(within: convergeWithin)
    } catch {
        report.failures.append("\(error)")
        report.rebuildEqual = false
        return
    }
    let live = try await audit.liveModels()
    for service in services { service.kill() }
    report.rebuildEqual = try await audit.rebuildEquals(live)
}

import Foundation
import OrdersDomain
import OrdersEventLog
import OrdersWriteSide
import OrdersReadSide
import OrdersAPI
import RedisClient
import Synchronization
import TestSupport
import EventLoops

/// A real server on a free port, with both projectors, against the test Redis under a namespace
/// of its own: what `orders serve` runs, in-process.
final class TestServer: Sendable {
    let store: EventStore
    let server: LineServer
    let port: Int
    /// The HTTP API on the same loops and handlers.
    let http: HTTPServer
    let httpPort: Int
    private let projectors: [Task<Void, Never>]

    init(token: String? = nil, configuration: ServerConfiguration = ServerConfiguration(host: "127.0.0.1", port: 0),
         redis url: RedisURL? = nil, namespace: String? = nil, publicMetrics: Bool = false,
         catalogue: OperationCatalogue = .standard, projections: [any Projection] = Projections.standard,
         partitions: Int = 1) async throws {
        // What orders serve does: requests and projectors on event loops, each with its own
        // Redis connection.
        let redis = RedisClient(RedisConfiguration(url: try url ?? TestRedis.url(), commandTimeout: TestRedis.commandTimeout),
                                on: ClientKind.testLoops)
        try await FunctionLibrary.ensureLoaded(on: redis)
        store = EventStore(redis: redis, layout: StoreLayout(namespace: namespace ?? TestRedis.uniqueNamespace("api"), partitionCount: partitions))
        let repository = OrderRepository(store: store)
        // minPosition waits up to 15 s here (2 s in production): tests must not fail on a slow machine.
        let api = APIContext(commands: CommandHandler(repository: repository),
                             queries: PartitionedQueries(logs: store.logs, freshnessWait: .seconds(15)),
                             replay: PartitionedReplay(logs: store.logs), token: token)
        let router = LineRouter(api: api, catalogue: catalogue)
        server = LineServer(configuration: configuration, loops: ClientKind.testLoops, tooLarge: LineRouterLimits.tooLargeResponse) {
            await router.respond(to: $0)
        }
        port = try server.start()
        let httpConfiguration = ServerConfiguration(host: "127.0.0.1", port: 0, lineTimeout: configuration.lineTimeout)
        http = HTTPServer(configuration: httpConfiguration, loops: ClientKind.testLoops,
                          wire: HTTPProtocol(router: HTTPRouter(api: api, catalogue: catalogue, publicMetrics: publicMetrics), configuration: httpConfiguration))
        httpPort = try http.start()
        let (line, http) = (server, http)
        api.metrics.watchConnections(of: "line") { line.openConnections }
        api.metrics.watchConnections(of: "http") { http.openConnections }
        let settings = ProjectorSettings(consumer: "test", block: .milliseconds(50))
        // As `orders serve` runs them: in each partition, one group for both projections (it
        // creates their groups).
        projectors = store.logs.partitions.map { log in
            let group = ProjectorGroup(projections: projections, generations: [:], log: log, settings: settings)
            return Task(executorPreference: ClientKind.testLoops.loops[1]) { await group.run() }
        }
    }

    func client(token: String? = nil) throws -> OrdersClient {
        try OrdersClient(host: "127.0.0.1", port: port, token: token, timeout: .seconds(20))
    }

    func httpClient() throws -> HTTPTestClient {
        try HTTPTestClient(port: httpPort)
    }

    func stop() async {
        await server.shutdown()
        await http.shutdown()
        for task in projectors { task.cancel() }
        for task in projectors { await task.value }
    }

    var logLength: Int {
        get async throws {
            var total = 0
            for log in store.logs.partitions { total += try await log.appendedEvents() }
            return total
        }
    }
}

/// A valid createOrder request (money as a string and as a number), made fresh per use.
var createRequest: [String: Any] { [
    "customerName": "Ann Lee", "customerEmail": "ann@example.com",
    "items": [["sku": "MUG-1", "name": "Blue mug", "quantity": 2, "unitPrice": "9.99"],
              ["sku": "TEA-7", "name": "Green tea", "quantity": 1, "unitPrice": 4.5]],
] }

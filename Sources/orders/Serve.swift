import Dispatch
import Foundation
import OrdersDomain
import OrdersEventLog
import OrdersWriteSide
import OrdersReadSide
import OrdersAPI
import RedisClient
import EventLoops
import ServiceLifecycle

/// `orders serve`: connect to Redis, load the function library, listen, and run until SIGINT or
/// SIGTERM; then stop accepting, answer what is in flight, and exit 0.
///
/// Requests and projectors run on `--loops` event loops (default: one per core), each with its
/// own Redis connections. Operator work (replays, the start-up checks) uses connections of its
/// own on threads, so a rebuild's long pipelines never hold up a client's request.
enum Serve {
    static func run(_ arguments: Arguments) async throws {
        let settings = try ServeSettings(arguments)
        let url = settings.redis
        RedisStatistics.observePrimaries { Log.info("redis.primary", ["redis": url, "found": $0]) }
        let operatorRedis = RedisClient(RedisConfiguration(url: url, connections: 2))
        do {
            try await waitForRedis(operatorRedis, url: url, upTo: settings.redisWait)
            try await FunctionLibrary.ensureLoaded(on: operatorRedis)
        } catch {
            Log.error("server.start_failed", ["redis": url, "error": error])
            throw error
        }
        Log.info("store.durability", ["mode": settings.durability, "promise": settings.durability.promise])
        for advice in await RedisSettingsAdvice.check(on: operatorRedis, durability: settings.durability) {
            Log.warning("redis.setting_advice", ["setting": advice.setting, "value": advice.value, "advice": advice.advice])
        }
        let layout = try await StoreCatalog.open(operatorRedis, namespace: settings.namespace, partitions: settings.partitions)
        let loops = EventLoopGroup(loops: settings.loops)
        let redis = RedisClient(RedisConfiguration(url: url), on: loops)
        let operatorLogs = StoreLogs(redis: operatorRedis, layout: layout)

        var mismatched: Set<String> = []
        for log in operatorLogs.partitions {
            let generations = LiveGenerations(log: log)
            try await generations.initialize()
            for mismatch in try await generations.schemaMismatches() where mismatched.insert(mismatch.projection).inserted {
                Log.warning("projection.schema_mismatch", ["projection": mismatch.projection, "built": mismatch.built,
                                                           "current": mismatch.current, "autoRebuild": settings.autoRebuild])
            }
        }

        // Listed in the order they depend on each other: the group stops them in reverse, so the
        // servers stop first (answering what is in flight), then the API's helpers, then the
        // projectors (each finishes its batch).
        var services: [any Service] = []
        if settings.runProjectors {
            services += projectorServices(settings, layout: layout, loops: loops, operatorLogs: operatorLogs, rebuild: mismatched.sorted())
        }
        if settings.runAPI {
            services += try apiServices(settings, store: EventStore(redis: redis, layout: layout, durability: settings.durability), loops: loops, operatorLogs: operatorLogs)
        }
        let group = ServiceGroup(services: services) { event in
            switch event {
            case .failed(let service, let error): Log.error("service.failed", ["service": service, "error": error])
            case .stopping(let reason): Log.info("server.stopping", ["reason": reason])
            case .stopped(let service): Log.info("service.stopped", ["service": service])
            }
        }
        defer {
            redis.close()
            operatorRedis.close()
        }
        let reason = try await group.run()
        Log.info("server.stopped", ["reason": reason])
    }

    /// The API: the line protocol's and HTTP's servers (bound here, so a taken port ends
    /// start-up), the command-id sweeper and the write throttle.
    static func apiServices(_ settings: ServeSettings, store: EventStore, loops: EventLoopGroup, operatorLogs: StoreLogs) throws -> [any Service] {
        var services: [any Service] = [CommandIdSweeper(store: store)]
        let throttle = settings.maxBacklog > 0
            ? WriteThrottle(maxBacklog: settings.maxBacklog, logs: store.logs.partitions, projections: Projections.standard) : nil
        if let throttle { services.append(throttle) }
        let api = APIContext(commands: CommandHandler(repository: OrderRepository(store: store)), queries: PartitionedQueries(logs: store.logs),
                             replay: PartitionedReplay(logs: operatorLogs), token: settings.token, throttle: throttle)
        let router = LineRouter(api: api)
        let lineServer = LineServer(configuration: ServerConfiguration(host: settings.host, port: settings.port), loops: loops,
                                    tooLarge: LineRouterLimits.tooLargeResponse) { await router.respond(to: $0) }
        let bound = try lineServer.start()
        api.metrics.watchConnections(of: "line") { lineServer.openConnections }
        Log.info("server.started", ["host": settings.host, "port": bound, "redis": settings.redis, "namespace": settings.namespace,
                                    "partitions": store.layout.count,
                                    "loops": settings.loops, "functionLibrary": FunctionLibrary.version,
                                    "auth": settings.token == nil ? "off" : "token"])
        if settings.httpPort > 0 {
            let configuration = ServerConfiguration(host: settings.host, port: settings.httpPort)
            let httpServer = HTTPServer(configuration: configuration, loops: loops,
                                        wire: HTTPProtocol(router: HTTPRouter(api: api, publicMetrics: settings.publicMetrics),
                                                           configuration: configuration))
            let boundHTTP = try httpServer.start()
            api.metrics.watchConnections(of: "http") { httpServer.openConnections }
            Log.info("server.http_started", ["host": settings.host, "port": boundHTTP, "publicMetrics": settings.publicMetrics])
            services.append(ServiceRun("http-server") { try await httpServer.run(grace: settings.grace) })
        }
        services.append(ServiceRun("line-server") { try await lineServer.run(grace: settings.grace) })
        return services
    }

    /// For each partition, the projectors (one group for every projection, on the last loop) and
    /// the log's retention; the recovery of a replay a dead process left behind, and the rebuild
    /// `--auto-rebuild` starts when a projection's schema changed.
    static func projectorServices(_ settings: ServeSettings, layout: StoreLayout, loops: EventLoopGroup,
                                  operatorLogs: StoreLogs, rebuild mismatched: [String]) -> [any Service] {
        let consumer = "\(ProcessInfo.processInfo.hostName)-\(getpid())"
        // On the loops, with connections of their own: on the API's, a projector's pipelines
        // queue behind every client's commands (and theirs behind it).
        let projectorLogs = StoreLogs(redis: RedisClient(RedisConfiguration(url: settings.redis), on: loops), layout: layout)
        var services: [any Service] = []
        for (projectorLog, operatorLog) in zip(projectorLogs.partitions, operatorLogs.partitions) {
            // One lease per partition and projection: instances share the partitions' work.
            services.append(OnExecutor(ProjectionSupervisor(log: projectorLog, settings: ProjectorSettings(consumer: consumer)),
                                       executor: loops.loops[loops.loops.count - 1]))
            // Behind every consumer group and the window: the log is the bus, not the store.
            services.append(LogRetention(log: operatorLog, window: settings.logRetention))
        }
        Log.info("projectors.started", ["consumer": consumer, "partitions": layout.count,
                                        "logRetentionSeconds": settings.logRetention.components.seconds])
        let replay = PartitionedReplay(logs: operatorLogs, consumer: consumer)
        // A replay whose process died mid-switch or mid-cleaning left a generation behind.
        services.append(ServiceRun("replay-recovery") { await replay.recoverAbandoned() })
        if settings.autoRebuild && !mismatched.isEmpty {
            services.append(ServiceRun("auto-rebuild") {
                do {
                    try await replay.rebuild(mismatched)
                } catch let running as ReadSideError where running.code == .replayRunning {
                    Log.info("replay.auto_rebuild_elsewhere", ["running": running.replayId ?? ""]) // another instance rebuilds
                } catch {
                    Log.error("replay.auto_rebuild_failed", ["error": error])
                }
            })
        }
        return services
    }

    /// Waits until Redis answers commands, for up to `limit`: a supervisor may start Redis and
    /// the service together, and Redis refuses commands (`LOADING`) while it reads its AOF, or
    /// refuses connections before it listens. Wrong credentials end the wait at once.
    static func waitForRedis(_ redis: RedisClient, url: RedisURL, upTo limit: Duration) async throws {
        let deadline = ContinuousClock.now + limit
        var backoff = Duration.milliseconds(50)
        var lastLogged: ContinuousClock.Instant?
        while true {
            do {
                // Any reply but an outage means Redis serves commands (this build's library may
                // not be loaded yet: "Function not found" is a reply too).
                _ = try await redis.send("FCALL_RO", "orders_version", 0)
                return
            } catch let error as RedisError where isOutage(error) {
                guard ContinuousClock.now + backoff < deadline else { throw error }
                if lastLogged.map({ ContinuousClock.now - $0 >= .seconds(5) }) ?? true {
                    Log.warning("server.waiting_for_redis", ["redis": url, "error": error,
                                                             "giveUpIn": "\((deadline - ContinuousClock.now).components.seconds) s"])
                    lastLogged = .now
                }
                try await Task.sleep(for: backoff)
                backoff = min(backoff * 2, .seconds(1))
            } catch RedisError.server {
                return
            }
        }
    }

    /// Down, unreachable or still loading: worth waiting for. Refused credentials are not.
    private static func isOutage(_ error: RedisError) -> Bool {
        switch error {
        case .server: return error.isServerUnavailable
        case .unavailable: return !error.isRefusedAccess
        case .connectionLost, .timeout: return true
        case .invalidURL, .closed, .scanInterrupted: return false
        }
    }
}

// The service's long-running parts, as the group runs them.
extension CommandIdSweeper: Service {}
extension WriteThrottle: Service {}
extension ProjectionSupervisor: Service {}
extension LogRetention: Service {}

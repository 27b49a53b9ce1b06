import Dispatch
import Foundation
import OrdersDomain
import OrdersEventLog
import OrdersWriteSide
import OrdersReadSide
import OrdersAPI
import RedisClient
import EventLoops

/// `orders serve`: connect to Redis, load the function library, listen, and run until SIGINT or
/// SIGTERM; then stop accepting, answer what is in flight, and exit 0.
///
/// Requests and projectors run on `--loops` event loops (default: one per core), each with its
/// own Redis connections. Operator work (replays, the start-up checks) uses connections of its
/// own on threads, so a rebuild's long pipelines never hold up a client's request.
enum Serve {
    static func run(_ arguments: Arguments) async throws {
        let env = ProcessInfo.processInfo.environment
        let url = try RedisURL(arguments.option("redis") ?? env["ORDERS_REDIS_URL"] ?? "redis://127.0.0.1:6390")
        let host = arguments.option("host") ?? env["ORDERS_HOST"] ?? "127.0.0.1"
        guard let port = Int(arguments.option("port") ?? env["ORDERS_PORT"] ?? "7480"), (0...65535).contains(port) else {
            throw UsageError("--port must be a number from 0 to 65535")
        }
        guard let httpPort = Int(arguments.option("http-port") ?? env["ORDERS_HTTP_PORT"] ?? "7481"), (0...65535).contains(httpPort) else {
            throw UsageError("--http-port must be a number from 0 (no HTTP) to 65535")
        }
        let publicMetrics = arguments.flag("public-metrics") || env["ORDERS_PUBLIC_METRICS"] == "1"
        let namespace = arguments.option("namespace") ?? env["ORDERS_NAMESPACE"] ?? "orders"
        guard KeySchema.isValidNamespace(namespace) else {
            throw UsageError("--namespace may hold letters, digits, '-', '_' and '.' only")
        }
        let token = env["ORDERS_API_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }

        guard let redisWait = Int(arguments.option("redis-wait") ?? env["ORDERS_REDIS_WAIT"] ?? "60"), redisWait >= 0 else {
            throw UsageError("--redis-wait must be a whole number of seconds")
        }
        guard let maxBacklog = Int(arguments.option("max-backlog") ?? env["ORDERS_MAX_BACKLOG"] ?? "100"), maxBacklog >= 0 else {
            throw UsageError("--max-backlog must be a whole number of events (0: never hold commands back)")
        }

        guard let loopCount = Int(arguments.option("loops") ?? env["ORDERS_LOOPS"] ?? "\(EventLoopGroup.coreCount)"),
              (1...256).contains(loopCount) else {
            throw UsageError("--loops must be a number of event loops from 1 to 256")
        }
        guard let graceSeconds = Double(arguments.option("shutdown-grace") ?? env["ORDERS_SHUTDOWN_GRACE"] ?? "10"),
              graceSeconds >= 0, graceSeconds <= 3600 else {
            throw UsageError("--shutdown-grace must be a number of seconds from 0 to 3600")
        }
        let grace = Duration.milliseconds(Int64(graceSeconds * 1000))
        guard let retentionSeconds = Int(arguments.option("log-retention") ?? env["ORDERS_LOG_RETENTION"] ?? "3600"),
              (0...(366 * 86_400)).contains(retentionSeconds) else {
            throw UsageError("--log-retention must be a whole number of seconds from 0 to 31622400 (366 days)")
        }

        let operatorRedis = RedisClient(RedisConfiguration(url: url, connections: 2))
        do {
            try await waitForRedis(operatorRedis, url: url, upTo: .seconds(redisWait))
            try await FunctionLibrary.ensureLoaded(on: operatorRedis)
        } catch {
            Log.error("server.start_failed", ["redis": url, "error": error])
            throw error
        }
        for advice in await RedisSettingsAdvice.check(on: operatorRedis) {
            Log.warning("redis.setting_advice", ["setting": advice.setting, "value": advice.value, "advice": advice.advice])
        }
        let keys = KeySchema(namespace: namespace)
        let loops = EventLoopGroup(loops: loopCount)
        let redis = RedisClient(RedisConfiguration(url: url), on: loops)
        let store = EventStore(redis: redis, keys: keys)
        let operatorLog = EventLog(redis: operatorRedis, keys: keys)
        let runAPI = !arguments.flag("projectors-only")
        let runProjectors = !arguments.flag("api-only")

        var serverTask: Task<Void, any Error>?
        var httpTask: Task<Void, any Error>?
        var throttleTask: Task<Void, Never>?
        var sweeperTask: Task<Void, Never>?
        if runAPI {
            sweeperTask = Task { await CommandIdSweeper(store: store).run() }
            let repository = OrderRepository(store: store)
            let throttle = maxBacklog > 0
                ? WriteThrottle(maxBacklog: maxBacklog, log: store.log, projections: Projections.standard) : nil
            if let throttle { throttleTask = Task { await throttle.run() } }
            let api = APIContext(commands: CommandHandler(repository: repository), queries: QueryHandler(log: store.log),
                                 replay: ReplayService(log: operatorLog), token: token, throttle: throttle)
            let router = LineRouter(api: api)
            let lineServer = LineServer(configuration: ServerConfiguration(host: host, port: port), loops: loops,
                                        tooLarge: LineRouterLimits.tooLargeResponse) { await router.respond(to: $0) }
            let bound = try lineServer.start()
            api.metrics.watchConnections(of: "line") { lineServer.openConnections }
            serverTask = Task { try await lineServer.run(grace: grace) }
            Log.info("server.started", ["host": host, "port": bound, "redis": url, "namespace": namespace, "loops": loopCount,
                                        "functionLibrary": FunctionLibrary.version, "auth": token == nil ? "off" : "token"])
            if httpPort > 0 {
                let configuration = ServerConfiguration(host: host, port: httpPort)
                let httpServer = HTTPServer(configuration: configuration, loops: loops,
                                            wire: HTTPProtocol(router: HTTPRouter(api: api, publicMetrics: publicMetrics),
                                                               configuration: configuration))
                let boundHTTP = try httpServer.start()
                api.metrics.watchConnections(of: "http") { httpServer.openConnections }
                httpTask = Task { try await httpServer.run(grace: grace) }
                Log.info("server.http_started", ["host": host, "port": boundHTTP, "publicMetrics": publicMetrics])
            }
        }
        let generations = LiveGenerations(log: operatorLog)
        try await generations.initialize()
        let mismatches = try await generations.schemaMismatches()
        for mismatch in mismatches {
            Log.warning("projection.schema_mismatch", ["projection": mismatch.projection, "built": mismatch.built,
                                                       "current": mismatch.current, "autoRebuild": arguments.flag("auto-rebuild")])
        }
        var projectorTasks: [Task<Void, Never>] = []
        if runProjectors {
            let consumer = "\(ProcessInfo.processInfo.hostName)-\(getpid())"
            let settings = ProjectorSettings(consumer: consumer)
            // On the loops, spread over them, with connections of their own: on the API's, a
            // projector's pipelines queue behind every client's commands (and theirs behind it).
            let projectorLog = EventLog(redis: RedisClient(RedisConfiguration(url: url), on: loops), keys: keys)
            // One group for every projection: a batch's orders are read and folded once for all.
            projectorTasks = [Task(executorPreference: loops.loops[loops.loops.count - 1]) {
                await ProjectionSupervisor(log: projectorLog, settings: settings).run()
            }]
            // Behind every consumer group and the window: the log is the bus, not the store.
            let retention = LogRetention(log: operatorLog, window: .seconds(retentionSeconds))
            projectorTasks.append(Task { await retention.run() })
            Log.info("projectors.started", ["consumer": consumer, "logRetentionSeconds": retentionSeconds])
            let replay = ReplayService(log: operatorLog, consumer: consumer)
            // A replay whose process died mid-switch or mid-cleaning left a generation behind.
            projectorTasks.append(Task { await replay.recoverAbandoned() })
            if arguments.flag("auto-rebuild") && !mismatches.isEmpty {
                projectorTasks.append(Task {
                    do {
                        try await replay.rebuild(mismatches.map(\.projection))
                    } catch let running as ReadSideError where running.code == .replayRunning {
                        Log.info("replay.auto_rebuild_elsewhere", ["running": running.replayId ?? ""]) // another instance rebuilds
                    } catch {
                        Log.error("replay.auto_rebuild_failed", ["error": error])
                    }
                })
            }
        }

        let signal = await waitForTerminationSignal()
        Log.info("server.stopping", ["signal": signal])
        // Stops accepting, answers what was received (within the grace), closes the connections.
        serverTask?.cancel()
        httpTask?.cancel()
        try? await serverTask?.value
        try? await httpTask?.value
        throttleTask?.cancel()
        sweeperTask?.cancel()
        // A projector finishes the batch it is on (applied entries are acknowledged), then stops.
        for task in projectorTasks { task.cancel() }
        for task in projectorTasks { await task.value }
        redis.close()
        operatorRedis.close()
        Log.info("server.stopped")
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
        case .invalidURL, .closed: return false
        }
    }

    /// Suspends until SIGINT or SIGTERM arrives; returns its name.
    private static func waitForTerminationSignal() async -> String {
        await withCheckedContinuation { continuation in
            let resumed = SignalOnce()
            for (number, name) in [(SIGINT, "SIGINT"), (SIGTERM, "SIGTERM")] {
                Foundation.signal(number, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
                source.setEventHandler {
                    if resumed.claim() { continuation.resume(returning: name) }
                }
                source.resume()
                SignalOnce.keep(source)
            }
        }
    }
}

/// Lets only the first of several signal handlers resume the waiting task.
final class SignalOnce: @unchecked Sendable {
    // @unchecked: `claimed` is guarded by `lock`; `sources` is written before signals can arrive.
    private let lock = NSLock()
    private var claimed = false
    nonisolated(unsafe) private static var sources: [any DispatchSourceSignal] = []

    func claim() -> Bool {
        lock.lock()
        defer { lock.unlock() }
        if claimed { return false }
        claimed = true
        return true
    }

    /// Dispatch sources stop when released; the process keeps them for its lifetime.
    static func keep(_ source: any DispatchSourceSignal) { sources.append(source) }
}

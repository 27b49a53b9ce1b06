import Foundation
import EventLoops
import OrdersEventLog
import RedisClient

/// What `orders serve` is told, from its options or else the environment (`--port` or
/// `ORDERS_PORT`), each checked once here: a bad value ends start-up with a usage error before
/// anything connects.
struct ServeSettings {
    var redis: RedisURL
    var host: String
    var port: Int
    /// 0: no HTTP API.
    var httpPort: Int
    var publicMetrics: Bool
    var namespace: String
    var token: String?
    var redisWait: Duration
    /// 0: never hold commands back.
    var maxBacklog: Int
    var loops: Int
    var grace: Duration
    var logRetention: Duration
    var runAPI: Bool
    var runProjectors: Bool
    var autoRebuild: Bool
    /// For a store that does not exist yet: its number of partitions (nil: 1 on one Redis, 16 on a cluster). An existing store
    /// keeps the number it was created with.
    var partitions: Int?
    /// When a command is answered: `local` (the primary has its events) or `replicated[:N]`.
    var durability: Durability

    init(_ arguments: Arguments, environment env: [String: String] = ProcessInfo.processInfo.environment) throws {
        func value(_ option: String, _ variable: String, _ fallback: String) -> String {
            arguments.option(option) ?? env[variable] ?? fallback
        }
        func number(_ option: String, _ variable: String, _ fallback: String, in range: ClosedRange<Int>, _ usage: String) throws -> Int {
            guard let number = Int(value(option, variable, fallback)), range.contains(number) else { throw UsageError(usage) }
            return number
        }
        redis = try RedisURL(value("redis", "ORDERS_REDIS_URL", "redis://127.0.0.1:6390"))
        host = value("host", "ORDERS_HOST", "127.0.0.1")
        port = try number("port", "ORDERS_PORT", "7480", in: 0...65535, "--port must be a number from 0 to 65535")
        httpPort = try number("http-port", "ORDERS_HTTP_PORT", "7481", in: 0...65535, "--http-port must be a number from 0 (no HTTP) to 65535")
        publicMetrics = arguments.flag("public-metrics") || env["ORDERS_PUBLIC_METRICS"] == "1"
        namespace = value("namespace", "ORDERS_NAMESPACE", "orders")
        guard KeySchema.isValidNamespace(namespace) else {
            throw UsageError("--namespace may hold letters, digits, '-', '_' and '.' only")
        }
        token = env["ORDERS_API_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
        redisWait = .seconds(try number("redis-wait", "ORDERS_REDIS_WAIT", "60", in: 0...Int(Int32.max),
                                        "--redis-wait must be a whole number of seconds"))
        maxBacklog = try number("max-backlog", "ORDERS_MAX_BACKLOG", "100", in: 0...Int.max,
                                "--max-backlog must be a whole number of events (0: never hold commands back)")
        loops = try number("loops", "ORDERS_LOOPS", "\(EventLoopGroup.coreCount)", in: 1...256,
                           "--loops must be a number of event loops from 1 to 256")
        guard let graceSeconds = Double(value("shutdown-grace", "ORDERS_SHUTDOWN_GRACE", "10")), graceSeconds >= 0, graceSeconds <= 3600 else {
            throw UsageError("--shutdown-grace must be a number of seconds from 0 to 3600")
        }
        grace = .milliseconds(Int64(graceSeconds * 1000))
        logRetention = .seconds(try number("log-retention", "ORDERS_LOG_RETENTION", "3600", in: 0...(366 * 86_400),
                                           "--log-retention must be a whole number of seconds from 0 to 31622400 (366 days)"))
        runAPI = !arguments.flag("projectors-only")
        runProjectors = !arguments.flag("api-only")
        autoRebuild = arguments.flag("auto-rebuild")
        let waitMs = try number("durability-timeout", "ORDERS_DURABILITY_TIMEOUT", "1000", in: 1...60_000,
                                "--durability-timeout must be a number of milliseconds from 1 to 60000")
        guard let durability = Durability(value("durability", "ORDERS_DURABILITY", "local"), timeout: .milliseconds(waitMs)) else {
            throw UsageError("--durability must be local, replicated or replicated:N (N replicas, 1 to 16)")
        }
        self.durability = durability
        if let text = arguments.option("partitions") ?? env["ORDERS_PARTITIONS"] {
            guard let number = Int(text), (1...StoreLayout.maxPartitions).contains(number) else {
                throw UsageError("--partitions must be a number from 1 to \(StoreLayout.maxPartitions)")
            }
            partitions = number
        }
    }
}

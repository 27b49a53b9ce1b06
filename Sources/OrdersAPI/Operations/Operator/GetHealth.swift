import OrdersDomain
import OrdersEventLog
import OrdersReadSide

/// Redis, the function library, the log's head, schema mismatches, the durability mode and what
/// it promises, and advice on Redis's settings. Over HTTP: 200 when ok, 503 when degraded or down, with the same body.
enum GetHealth: LineOperation {
    static let name = "health"
    static let route = HTTPRoute.get("/api/v1/health")

    struct Report {
        enum Status: String { case ok, degraded, down }
        let status: Status
        let json: JSON
    }

    static func input(line request: RequestFields) throws(APIError) {}

    static func input(http call: HTTPCall) throws(APIError) {}

    static func perform(_ input: Void, _ api: APIContext) async -> Report {
        let redis = api.logs.redis
        do {
            let library = try await FunctionLibrary.loadedVersion(on: redis)
            // The newest event of the store: in a store of several partitions, the newest of
            // their logs' heads, named with its partition.
            var last: StorePosition?
            var mismatches: [(projection: String, built: Int, current: Int)] = []
            for log in api.logs.partitions {
                if let head = try await log.lastPosition(), last.map({ head > $0.position }) ?? true {
                    last = StorePosition(partition: log.keys.partition, position: head)
                }
                for mismatch in try await LiveGenerations(log: log).schemaMismatches()
                where !mismatches.contains(where: { $0.projection == mismatch.projection }) {
                    mismatches.append(mismatch)
                }
            }
            let status: Report.Status = library == FunctionLibrary.version && mismatches.isEmpty ? .ok : .degraded
            var result: [String: JSON] = [
                "status": .string(status.rawValue), "redis": "up",
                "functionLibrary": ["loaded": JSON(library ?? 0), "expected": JSON(FunctionLibrary.version)],
                "logPosition": JSON(last?.text(partitions: api.logs.layout.count))]
            if !mismatches.isEmpty {
                result["schemaMismatch"] = .array(mismatches.map { ["projection": .string($0.projection), "built": JSON($0.built),
                                                                    "current": JSON($0.current)] })
            }
            let durability = api.commands.repository.store.durability
            result["durability"] = ["mode": .string(durability.description), "promise": .string(durability.promise)]
            // Advice, not a fault: the service works, but pays for these settings.
            let settings = await RedisSettingsAdvice.check(on: redis, durability: durability)
            if !settings.isEmpty {
                result["redisSettings"] = .array(settings.map { ["setting": .string($0.setting), "value": .string($0.value),
                                                                 "advice": .string($0.advice)] })
            }
            return Report(status: status, json: .object(result))
        } catch {
            Log.warning("health.redis_unreachable", ["error": error])
            return Report(status: .down, json: ["status": "down", "redis": "unreachable"])
        }
    }

    static func result(line report: Report) -> [UInt8] { report.json.encoded }

    static func response(http report: Report, to input: Void) -> HTTPResponse {
        .data(report.json, status: report.status == .ok ? 200 : 503)
    }
}

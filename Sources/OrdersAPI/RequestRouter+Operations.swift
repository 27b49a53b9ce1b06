import Foundation
import OrdersDomain
import OrdersEventLog
import OrdersWriteSide
import OrdersReadSide
import RedisClient

/// What an operator asks: projection status, replays, dead letters, an order's history and
/// past states (which read the event streams on purpose), snapshots, health.
extension RequestRouter {
    func projectionStatus() async throws -> Any {
        let reports = try await ReadSideOperator(log: log, projections: replay.projections).reports()
        var result: [String: Any] = ["projections": reports.map { report -> [String: Any] in
            let status = report.status
            return ["projection": status.projection, "group": status.group, "generation": status.generation,
                    "lastDelivered": status.lastDelivered?.description ?? NSNull(), "lagEvents": status.lagEvents,
                    "lagMilliseconds": status.lagMilliseconds, "pending": status.pending,
                    "consumers": status.consumers, "deadLettered": status.deadLettered,
                    "schema": ["built": report.builtSchema, "current": report.currentSchema],
                    "needsRebuild": report.needsRebuild]
        }]
        if let status = try await replay.status() { result["replay"] = Self.json(status) }
        if let throttle {
            let now = throttle.snapshot
            result["writeThrottle"] = ["maxBacklog": throttle.maxBacklog, "backlog": now.backlog, "heldCommands": now.held,
                                       "throttling": now.backlog > throttle.maxBacklog]
        }
        return result
    }

    // MARK: - Replay

    /// Starts a replay in the background and returns its status at once; anything that stops it
    /// from starting (an unknown order, another replay running) is the answer.
    /// One of `orderId`, `from` or `projection` (none: rebuild all), each checked.
    func startReplay(_ request: RequestFields) async throws -> Any {
        try request.only(["orderId", "from", "projection"])
        if let null = ["orderId", "from", "projection"].first(where: { request.object[$0] == .null }) {
            throw APIError(.invalidRequest, "\(null) must be a string (leave it out to rebuild every projection)")
        }
        let given = ["orderId", "from", "projection"].filter(request.has)
        guard given.count <= 1 else {
            throw APIError(.invalidRequest, "give one of orderId, from and projection, not \(given.joined(separator: " and "))")
        }
        let what: ReplayService.Request
        if let orderId = try request.optionalString("orderId") {
            what = .order(orderId)
        } else if request.has("from") {
            what = .from(try request.timestamp("from"))
        } else {
            let projection = try request.optionalString("projection") ?? "all"
            let names = replay.projections.names
            guard projection == "all" || names.contains(projection) else {
                throw APIError(.invalidRequest, "projection must be one of \((names + ["all"]).joined(separator: ", ")), got '\(projection.prefix(40))'")
            }
            what = .rebuild(projection == "all" ? names : [projection])
        }
        return Self.json(try await replay.start(what))
    }

    /// Longest `waitMs` of `replayStatus`: a long-poll shorter than any client's patience.
    static let maxReplayStatusWait = 2_000

    /// The replay's status; with `waitMs` and `untilPhase`, answered once the replay reaches one
    /// of those phases (checked every 10 ms) or when the wait is over, so a client follows a
    /// replay without polling on a timer of its own. Without `untilPhase` it answers at once.
    func replayStatus(_ request: RequestFields) async throws -> Any {
        let wait = try request.optionalInt("waitMs") ?? 0
        guard (0...Self.maxReplayStatusWait).contains(wait) else {
            throw APIError(.invalidRequest, "waitMs must be between 0 and \(Self.maxReplayStatusWait)")
        }
        var phases: Set<String> = []
        if let list = request.object["untilPhase"] {
            let names = list.array?.compactMap(\.string) ?? []
            guard !names.isEmpty, names.count == list.array?.count, names.allSatisfy({ ReplayStatus.Phase(rawValue: $0) != nil }) else {
                throw APIError(.invalidRequest, "untilPhase must name one or more replay phases: "
                               + ReplayStatus.Phase.allCases.map(\.rawValue).joined(separator: ", "))
            }
            phases = Set(names)
        }
        let deadline = ContinuousClock.now + .milliseconds(Int64(phases.isEmpty ? 0 : wait))
        while true {
            let status = try await replay.status()
            if let status, phases.contains(status.phase.rawValue) { return Self.json(status) }
            guard ContinuousClock.now < deadline else { return status.map(Self.json) ?? [String: Any]() }
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    static func json(_ status: ReplayStatus) -> [String: Any] {
        let seconds = Double(max(1, status.heartbeat.milliseconds - status.startedAt.milliseconds)) / 1000
        var object: [String: Any] = ["id": status.id, "kind": status.kind, "projections": status.projections,
                                     "generations": status.generations, "phase": status.phase.rawValue,
                                     "done": status.done, "total": status.total, "startedAt": status.startedAt.description,
                                     "heartbeat": status.heartbeat.description, "alive": status.isAlive,
                                     "ratePerSecond": Double(status.done) / seconds]
        if let from = status.from { object["from"] = from }
        if let orderId = status.orderId { object["orderId"] = orderId }
        if let error = status.error { object["error"] = error }
        return object
    }

    // MARK: - Dead letters

    func deadLetters(_ request: RequestFields) async throws -> Any {
        let letters = try await DeadLetters(log: log).list(limit: try request.optionalInt("limit") ?? 100)
        return ["deadLetters": letters.map { ["id": $0.id, "projection": $0.projection, "logId": $0.logId,
                                               "attempts": $0.attempts, "error": $0.error, "at": $0.at] }]
    }

    /// Applies dead-lettered entries again (all, or the one named by `deadLetterId`); returns which stuck.
    func redrive(_ request: RequestFields) async throws -> Any {
        try request.only(["deadLetterId"])
        let outcome = try await ReadSideOperator(log: log, projections: replay.projections)
            .redrive(only: try request.optionalString("deadLetterId"))
        return ["redriven": outcome.redriven, "failed": outcome.failed]
    }

    // MARK: - Operator queries that read the event streams on purpose

    func orderHistory(_ request: RequestFields) async throws -> Any {
        let orderId = try request.string("orderId")
        guard Identifier.isValid(orderId) else { throw APIError(.notFound, "order \(orderId.prefix(80)) does not exist") }
        let events: [RecordedEvent]
        do { events = try await log.events(of: orderId) } catch { throw APIError(error) }
        guard !events.isEmpty else { throw APIError(.notFound, "order \(orderId) does not exist") }
        return ["orderId": orderId, "events": events.map { event in
            OrderJSON.event(event, data: (try? JSONSerialization.jsonObject(with: Data(event.data.utf8))) ?? event.data)
        }]
    }

    func orderAsOf(_ request: RequestFields) async throws -> Any {
        let orderId = try request.string("orderId")
        let time = try request.timestamp("at")
        guard Identifier.isValid(orderId) else { throw APIError(.notFound, "order \(orderId.prefix(80)) does not exist") }
        let aggregate: OrderAggregate
        do { aggregate = try await loader.load(orderId, asOf: time) } catch {
            throw APIError(EventStoreError.from(error))
        }
        guard let state = aggregate.state else { throw APIError(.notFound, "order \(orderId) did not exist at \(time)") }
        guard !state.deleted else { throw APIError(.notFound, "order \(orderId) was deleted at \(state.updatedAt)") }
        return OrderJSON.aggregate(aggregate)
    }

    func health() async -> Any {
        let redis = log.redis
        do {
            let library = try await FunctionLibrary.loadedVersion(on: redis)
            let last = try await log.lastPosition()
            let mismatches = try await LiveGenerations(log: log).schemaMismatches()
            let ok = library == FunctionLibrary.version && mismatches.isEmpty
            var result: [String: Any] = ["status": ok ? "ok" : "degraded", "redis": "up",
                                         "functionLibrary": ["loaded": library ?? 0, "expected": FunctionLibrary.version],
                                         "logPosition": last?.description ?? NSNull()]
            if !mismatches.isEmpty {
                result["schemaMismatch"] = mismatches.map { ["projection": $0.projection, "built": $0.built, "current": $0.current] }
            }
            // Advice, not a fault: the service works, but pays for these settings.
            let settings = await RedisSettingsAdvice.check(on: redis)
            if !settings.isEmpty {
                result["redisSettings"] = settings.map { ["setting": $0.setting, "value": $0.value, "advice": $0.advice] }
            }
            return result
        } catch {
            Log.warning("health.redis_unreachable", ["error": error])
            return ["status": "down", "redis": "unreachable"]
        }
    }
}

import OrdersDomain
import OrdersEventLog
import OrdersReadSide

/// Probes, and the line protocol's operator calls over HTTP: each answers `{"data": …}` with the
/// line protocol's result.
extension HTTPRouter {
    // MARK: - Probes

    /// The process serves requests.
    func live() -> HTTPResponse {
        HTTPResponse(status: 200, body: Array(#"{"status":"up"}"#.utf8))
    }

    /// Ready for traffic: Redis answers, the function library is the one this build needs, no
    /// projection needs a rebuild, and none lags more than `readyLag`. 503 with the reasons if not.
    func ready() async -> HTTPResponse {
        var reasons: [String] = []
        do {
            let health = await api.health() as? [String: Any] ?? [:]
            if health["status"] as? String != "ok" { reasons.append("health is \(health["status"] as? String ?? "unknown")") }
            if health["redis"] as? String == "up" {
                for report in try await ReadSideOperator(log: api.log, projections: api.replay.projections).reports() {
                    let lag = report.status.lagMilliseconds
                    if Duration.milliseconds(lag) > readyLag {
                        reasons.append("projection \(report.status.projection) lags \(lag) ms")
                    }
                }
            }
        } catch {
            reasons.append("the projections' status cannot be read")
        }
        guard reasons.isEmpty else {
            return HTTPResponse.error(503, code: .notReady, message: reasons.joined(separator: "; "), extra: [("status", "not ready")],
                                      headers: [("Retry-After", "5")])
        }
        return HTTPResponse(status: 200, body: Array(#"{"status":"ready"}"#.utf8))
    }

    // MARK: - The event streams, on purpose

    func history(_ call: Call) async throws -> HTTPResponse {
        try Self.json(["data": try await api.orderHistory(RequestFields(object: ["orderId": .string(call.parameters["orderId"] ?? "")]))])
    }

    /// `?at=<time>`: the order as it was then, folded from its events, in the REST order shape.
    func asOf(_ call: Call) async throws -> HTTPResponse {
        guard let text = call.query["at"] else { throw APIError(.invalidRequest, "at is required (a UTC time like 2026-11-23T10:00:00Z)") }
        let at = try Self.date(text, "at", endOfDay: false)
        let orderId = call.parameters["orderId"] ?? ""
        guard Identifier.isValid(orderId) else { throw APIError(.notFound, "order \(orderId.prefix(80)) does not exist") }
        let aggregate: OrderAggregate
        do { aggregate = try await api.loader.load(orderId, asOf: at) } catch { throw APIError(EventStoreError.from(error)) }
        guard let state = aggregate.state else { throw APIError(.notFound, "order \(orderId) did not exist at \(at)") }
        guard !state.deleted, let view = OrderView(aggregate) else {
            throw APIError(.notFound, "order \(orderId) was deleted at \(state.updatedAt)")
        }
        let (body, version) = try RESTOrderJSON.one(view)
        return HTTPResponse(status: 200, headers: [("ETag", "\"\(version)\"")], body: body)
    }

    // MARK: - Operators

    /// Takes a snapshot of the order now.
    func snapshot(_ call: Call) async throws -> HTTPResponse {
        try Self.json(["data": try await api.snapshot(call.parameters["orderId"] ?? "")])
    }

    /// The line protocol's `health`: Redis, the function library, the log's head, schema
    /// mismatches and settings advice. 200 when ok, 503 when degraded or down (with the same body).
    func health() async throws -> HTTPResponse {
        let health = await api.health()
        let ok = (health as? [String: Any])?["status"] as? String == "ok"
        return try Self.json(["data": health], status: ok ? 200 : 503)
    }

    func projections() async throws -> HTTPResponse {
        try Self.json(["data": try await api.projectionStatus()])
    }

    func deadLetters(_ call: Call) async throws -> HTTPResponse {
        let limit = try Self.integer(call.query["limit"], "limit", default: 100, in: 1...10_000)
        return try Self.json(["data": try await api.deadLetters(RequestFields(object: ["limit": .int(Int64(limit))]))])
    }

    /// Body `{"deadLetterId"?: …}`: applies the dead letters again (all, or that one).
    func redrive(_ call: Call) async throws -> HTTPResponse {
        try Self.json(["data": try await api.redrive(try Self.body(call))])
    }

    /// Body `{"orderId"?, "from"?, "projection"?}`, as the line protocol's `replay`; 202.
    func startReplay(_ call: Call) async throws -> HTTPResponse {
        try Self.json(["data": try await api.startReplay(try Self.body(call))], status: 202)
    }

    /// `?waitMs=&untilPhase=a,b`: answered when the replay reaches one of those phases, or when
    /// the wait is over.
    func replayStatus(_ call: Call) async throws -> HTTPResponse {
        var object: [String: JSON] = [:]
        if let wait = call.query["waitMs"] {
            object["waitMs"] = .int(Int64(try Self.integer(wait, "waitMs", default: 0, in: 0...RequestRouter.maxReplayStatusWait)))
        }
        if let phases = call.query["untilPhase"] {
            object["untilPhase"] = .array(phases.split(separator: ",", omittingEmptySubsequences: false).map { .string(String($0)) })
        }
        return try Self.json(["data": try await api.replayStatus(RequestFields(object: object))])
    }

    func cancelReplay() async throws -> HTTPResponse {
        try await api.replay.cancel()
        return try Self.json(["data": try await api.replayStatus(RequestFields(object: [:]))])
    }
}

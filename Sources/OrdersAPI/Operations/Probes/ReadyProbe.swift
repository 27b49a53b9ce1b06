import OrdersReadSide

/// `GET /health/ready`: ready for traffic when Redis answers, the function library is the one
/// this build needs, no projection needs a rebuild, and none lags more than the context's
/// `readyLag`. 503 with the reasons if not.
enum ReadyProbe: APIOperation {
    static let name = "ready"
    static let route = HTTPRoute("GET", "/health/ready", probe: true)

    static func input(http call: HTTPCall) throws(APIError) {}

    /// Why the service is not ready (none: ready).
    static func perform(_ input: Void, _ api: APIContext) async -> [String] {
        var reasons: [String] = []
        let health = await GetHealth.perform((), api)
        if health.status != .ok { reasons.append("health is \(health.status.rawValue)") }
        guard health.status != .down else { return reasons }
        do {
            for (_, report) in try await api.projectionReports() {
                let lag = report.status.lagMilliseconds
                if Duration.milliseconds(lag) > api.readyLag {
                    reasons.append("projection \(report.status.projection) lags \(lag) ms")
                }
            }
        } catch {
            reasons.append("the projections' status cannot be read")
        }
        return reasons
    }

    static func response(http reasons: [String], to input: Void) -> HTTPResponse {
        guard reasons.isEmpty else {
            return HTTPResponse.error(503, code: .notReady, message: reasons.joined(separator: "; "), extra: [("status", "not ready")],
                                      headers: [("Retry-After", "5")])
        }
        return HTTPResponse(status: 200, body: Array(#"{"status":"ready"}"#.utf8))
    }
}

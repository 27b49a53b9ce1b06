import OrdersEventLog
import OrdersReadSide
import RedisClient

/// `GET /metrics` (Prometheus's text format): the process's own counts (`ServiceMetrics`), and what Redis holds, read at each
/// scrape: whether Redis answers, each live projection's lag, pending entries, dead letters and
/// last delivered position, and the running replay's progress.
enum ScrapeMetrics: APIOperation {
    static let name = "metrics"
    static let route = HTTPRoute("GET", "/metrics", probe: true)

    static func input(http call: HTTPCall) throws(APIError) {}

    static func response(http text: PrometheusText, to input: Void) -> HTTPResponse {
        HTTPResponse(status: 200, contentType: PrometheusText.contentType, body: text.bytes)
    }

    static func perform(_ input: Void, _ api: APIContext) async -> PrometheusText {
        var text = PrometheusText()
        api.metrics.write(to: &text)

        var reports: [(partition: Int, report: ReadSideOperator.Report)]?
        var replay: ReplayStatus?
        do {
            reports = try await api.projectionReports()
            replay = try await api.replay.status()
        } catch {
            Log.warning("metrics.redis_unreachable", ["error": error])
        }
        text.family("orders_redis_up", type: "gauge", help: "1 when Redis answered this scrape, else 0.")
        text.sample("orders_redis_up", [], reports == nil ? 0 : 1)
        text.family("orders_redis_reconnects_total", type: "counter",
                    help: "Redis connections of this process established again after one broke or failed.")
        text.sample("orders_redis_reconnects_total", [], Double(RedisStatistics.reconnects))
        text.family("orders_redis_primary_switches_total", type: "counter",
                    help: "Primaries this process followed after a Sentinel failover.")
        text.sample("orders_redis_primary_switches_total", [], Double(RedisStatistics.primarySwitches))

        if let reports {
            typealias Family = (name: String, type: String, help: String, value: @Sendable (ReadSideOperator.Report) -> Double)
            var families: [Family] = []
            families.append(("orders_projection_lag_events", "gauge", "Log entries the live generation has yet to read.",
                             { Double($0.status.lagEvents) }))
            families.append(("orders_projection_lag_seconds", "gauge", "Age of the oldest log entry the live generation has yet to read.",
                             { Double($0.status.lagMilliseconds) / 1000 }))
            families.append(("orders_projection_pending_entries", "gauge", "Entries read by a projector and not yet acknowledged.",
                             { Double($0.status.pending) }))
            families.append(("orders_projection_dead_letters", "gauge", "Log entries the projection gave up on (in the dead-letter stream).",
                             { Double($0.status.deadLettered) }))
            families.append(("orders_projection_last_delivered_timestamp_seconds", "gauge",
                             "Time part of the last log position delivered to the projection (Unix seconds; 0 before the first).",
                             { Double($0.status.lastDelivered?.milliseconds ?? 0) / 1000 }))
            families.append(("orders_projection_generation", "gauge", "The live generation of the projection.",
                             { Double($0.status.generation) }))
            families.append(("orders_projection_needs_rebuild", "gauge", "1 when the live generation was built with another schema.",
                             { $0.needsRebuild ? 1 : 0 }))
            for (name, type, help, value) in families {
                text.family(name, type: type, help: help)
                for (partition, report) in reports {
                    // One series per projection; per projection and partition in a store of several.
                    var labels = [("projection", report.status.projection)]
                    if api.logs.layout.count > 1 { labels.append(("partition", String(partition))) }
                    text.sample(name, labels, value(report))
                }
            }
            text.family("orders_replay_running", type: "gauge", help: "1 while a replay is running (not done, cancelled or failed).")
            let running = replay.map { !["done", "cancelled", "failed"].contains($0.phase.rawValue) && $0.isAlive } ?? false
            text.sample("orders_replay_running", [], running ? 1 : 0)
            text.family("orders_replay_events_done", type: "gauge", help: "Events the current or last replay has folded.")
            text.sample("orders_replay_events_done", [], Double(replay?.done ?? 0))
            text.family("orders_replay_events_expected", type: "gauge", help: "Events the current or last replay expects to fold.")
            text.sample("orders_replay_events_expected", [], Double(replay?.total ?? 0))
        }
        return text
    }
}

import Synchronization

/// What the service counts in process, for `/metrics`: requests by protocol, operation and outcome
/// (a latency histogram), commands and the events they appended, concurrency conflicts and
/// idempotent duplicates, and the open connections of each server. Redis-side figures (projection
/// lag, pending entries, dead letters, replay progress) are read when scraped (`MetricsScrape`).
///
/// One lock per family; a request takes it once. Label values come from closed sets (operation
/// names, error codes), so the series stay few.
public final class ServiceMetrics: Sendable {
    /// Upper bounds of the latency buckets, in seconds.
    static let latencyBuckets: [Double] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

    /// One series' label values, in the family's label order (unused ones empty).
    struct Series: Hashable, Sendable {
        let first: String
        var second = ""
        var third = ""
    }

    struct Histogram: Sendable {
        var buckets: [Int]
        var sum: Double = 0
        var count: Int = 0
    }

    private let requests = Mutex<[Series: Histogram]>([:])
    private let commands = Mutex<[Series: Int]>([:])
    private let eventsAppended = Atomic<Int>(0)
    private let connectionGauges = Mutex<[(server: String, count: @Sendable () -> Int)]>([])

    public init() {}

    /// One answered request: how long it took and how it ended (`ok` or the error code).
    public func request(protocol wire: String, operation: String, outcome: String, seconds: Double) {
        let series = Series(first: wire, second: operation, third: outcome)
        let bucket = Self.latencyBuckets.firstIndex { seconds <= $0 } ?? Self.latencyBuckets.count
        requests.withLock { all in
            var histogram = all[series] ?? Histogram(buckets: Array(repeating: 0, count: Self.latencyBuckets.count + 1))
            histogram.buckets[bucket] += 1
            histogram.sum += seconds
            histogram.count += 1
            all[series] = histogram
        }
    }

    /// One command's end: `appended`, `duplicate`, or the error code that refused it.
    public func command(outcome: String, events: Int = 0) {
        commands.withLock { $0[Series(first: outcome), default: 0] += 1 }
        if events > 0 { eventsAppended.add(events, ordering: .relaxed) }
    }

    /// Counts a server's open connections at each scrape.
    public func watchConnections(of server: String, _ count: @escaping @Sendable () -> Int) {
        connectionGauges.withLock { $0.append((server, count)) }
    }

    /// The in-process families, in the exposition format.
    func write(to text: inout PrometheusText) {
        let histograms = requests.withLock { $0 }
        text.family("orders_request_duration_seconds", type: "histogram",
                    help: "Time from a request's arrival to its answer, by protocol, operation and outcome (ok or the error code).")
        for (series, histogram) in histograms.sorted(by: { ($0.key.first, $0.key.second, $0.key.third) < ($1.key.first, $1.key.second, $1.key.third) }) {
            let labels = [("protocol", series.first), ("operation", series.second), ("outcome", series.third)]
            var cumulative = 0
            for (index, bound) in Self.latencyBuckets.enumerated() {
                cumulative += histogram.buckets[index]
                text.sample("orders_request_duration_seconds_bucket", labels + [("le", PrometheusText.number(bound))], Double(cumulative))
            }
            text.sample("orders_request_duration_seconds_bucket", labels + [("le", "+Inf")], Double(histogram.count))
            text.sample("orders_request_duration_seconds_sum", labels, histogram.sum)
            text.sample("orders_request_duration_seconds_count", labels, Double(histogram.count))
        }

        let outcomes = commands.withLock { $0 }
        text.family("orders_commands_total", type: "counter",
                    help: "Commands handled, by outcome: appended, duplicate (an Idempotency-Key or commandId seen before), or the error code.")
        for (series, count) in outcomes.sorted(by: { $0.key.first < $1.key.first }) {
            text.sample("orders_commands_total", [("outcome", series.first)], Double(count))
        }
        text.family("orders_events_appended_total", type: "counter", help: "Events appended to order streams by this process.")
        text.sample("orders_events_appended_total", [], Double(eventsAppended.load(ordering: .relaxed)))
        text.family("orders_concurrency_conflicts_total", type: "counter",
                    help: "Commands refused because the order was not at the expected version.")
        text.sample("orders_concurrency_conflicts_total", [], Double(outcomes[Series(first: "concurrency_conflict")] ?? 0))
        text.family("orders_idempotent_duplicates_total", type: "counter",
                    help: "Commands whose id was seen before: answered with the first result, nothing written.")
        text.sample("orders_idempotent_duplicates_total", [], Double(outcomes[Series(first: "duplicate")] ?? 0))

        text.family("orders_open_connections", type: "gauge", help: "Client connections open, by server.")
        for gauge in connectionGauges.withLock({ $0 }) {
            text.sample("orders_open_connections", [("server", gauge.server)], Double(gauge.count()))
        }
    }
}

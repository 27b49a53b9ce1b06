import Foundation
import OrdersAPI

/// Suite 7: a real Prometheus scrapes the service's `/metrics` every second while a load runs.
/// Afterwards, within a deadline: Prometheus sees the target up, the events the service says it
/// appended equal the events on the log (only this service writes there), Prometheus's latest
/// sample of that counter equals both, and the projections' lag comes back to 0 in Prometheus.
public struct MetricsSuite: Sendable {
    public var workers: Int
    public var commands: Int
    public var duration: Duration

    public init(workers: Int = 8, commands: Int = 4000, duration: Duration = .seconds(60)) {
        self.workers = workers
        self.commands = commands
        self.duration = duration
    }

    public func run(_ environment: SoakEnvironment) async throws -> SuiteReport {
        var report = SuiteReport(suite: "7 metrics scraped")
        let started = ContinuousClock.now
        guard FileManager.default.isExecutableFile(atPath: PrometheusProcess.binary) else {
            report.failures.append("\(PrometheusProcess.binary) is missing (Scripts/bootstrap installs Debian's prometheus package)")
            return report
        }
        let namespace = environment.namespace("metrics")
        let service = try environment.service(namespace)
        try await service.start()
        defer { service.kill() }
        let prometheus = try PrometheusProcess(targets: [service.httpPort])
        try prometheus.start()
        defer { prometheus.stop() }
        // Scraping before the load starts, so the load is watched from its first command.
        do {
            try await eventually(within: .seconds(30)) { guard prometheus.query("up") == [1] else { throw NotYet() } }
        } catch {
            report.failures.append("Prometheus did not scrape the service within 30 s (its log: \(prometheus.logPath))")
            return report
        }
        let ledger = CommandLedger()
        report.sent = try await LoadGenerator(ports: [service.port], workers: workers, commandsPerWorker: commands / workers,
                                              duration: duration, ledger: ledger, runId: namespace).run()
        report.acknowledged = ledger.acknowledged
        report.failures += ledger.allProblems.prefix(3)

        let store = environment.store(namespace)
        var logEvents = 0, serviceEvents = 0, scraped: Double = -1
        do {
            try await eventually(within: .seconds(30)) {
                logEvents = try await store.log.appendedEvents()
                serviceEvents = Self.sample("orders_events_appended_total", in: PlainHTTP.get(port: service.httpPort, path: "/metrics")) ?? -2
                scraped = prometheus.query("orders_events_appended_total")?.first ?? -3
                guard prometheus.query("up") == [1], logEvents == serviceEvents, scraped == Double(serviceEvents),
                      prometheus.query("max(orders_projection_lag_events)") == [0] else {
                    throw NotYet()
                }
            }
        } catch {
            report.failures.append("Prometheus did not agree within 30 s: log \(logEvents) events, the service says \(serviceEvents), Prometheus \(scraped), up \(prometheus.query("up") ?? []), lag \(prometheus.query("max(orders_projection_lag_events)") ?? [])")
        }
        let scrapes = prometheus.query("sum(count_over_time(up[10m]))") ?? []
        report.notes.append("\(logEvents) events appended, counted alike by the log, the service and Prometheus (\(Int(scrapes.reduce(0, +))) scrapes)")
        report.seconds = (ContinuousClock.now - started).seconds
        return report
    }

    struct NotYet: Error {}

    /// The value of an unlabelled sample in a `/metrics` answer.
    static func sample(_ name: String, in body: [UInt8]?) -> Int? {
        guard let body else { return nil }
        for line in String(decoding: body, as: UTF8.self).split(separator: "\n") where line.hasPrefix(name + " ") {
            return Int(line.dropFirst(name.count + 1))
        }
        return nil
    }
}

extension MetricsSuite: SoakSuite {}

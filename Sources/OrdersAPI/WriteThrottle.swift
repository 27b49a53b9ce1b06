import OrdersDomain
import OrdersEventLog
import OrdersReadSide
import Synchronization

/// Slows commands down while the read models are too far behind the writes: on two shared cores
/// the write side can outrun the projectors, and read-your-writes would then drift seconds
/// behind. `run()` measures the backlog (log entries the live projections' consumer groups have
/// not read yet) every `interval`; while it is above `maxBacklog`, `admit()` holds a command back
/// (up to `maxWait`, then lets it through, so nothing waits forever), and the projectors catch up.
/// The backlog and whether commands are being held are in `projectionStatus`.
public final class WriteThrottle: Sendable {
    public let maxBacklog: Int
    public let maxWait: Duration
    public let interval: Duration
    private let measure: @Sendable () async throws -> Int
    private let state = Mutex((backlog: 0, held: 0))

    /// `measure` returns the backlog in events.
    public init(maxBacklog: Int, maxWait: Duration = .seconds(2), interval: Duration = .milliseconds(20),
                measure: @escaping @Sendable () async throws -> Int) {
        self.maxBacklog = maxBacklog
        self.maxWait = maxWait
        self.interval = interval
        self.measure = measure
    }

    /// Measures the backlog of the live generations of `projections` on `log`.
    public convenience init(maxBacklog: Int, log: EventLog, projections: [any Projection]) {
        let monitor = ProjectionMonitor(log: log)
        let generations = LiveGenerations(log: log, projections: projections)
        self.init(maxBacklog: maxBacklog) {
            try await monitor.backlog(live: try await generations.live(projections.names))
        }
    }

    /// The last measured backlog, and how many commands are being held now.
    public var snapshot: (backlog: Int, held: Int) { state.withLock { ($0.backlog, $0.held) } }

    /// Measures until the task is cancelled. A failed measurement (Redis down) counts as no
    /// backlog: commands then fail on their own with `unavailable`, never wait here for it.
    public func run() async {
        while !Task.isCancelled {
            let backlog = (try? await measure()) ?? 0
            state.withLock { $0.backlog = backlog }
            try? await Task.sleep(for: interval)
        }
    }

    /// Returns at once while the backlog is within bounds; otherwise when it is back within
    /// them or `maxWait` has passed.
    public func admit() async {
        guard state.withLock({ $0.backlog }) > maxBacklog else { return }
        state.withLock { $0.held += 1 }
        defer { state.withLock { $0.held -= 1 } }
        let deadline = ContinuousClock.now + maxWait
        while state.withLock({ $0.backlog }) > maxBacklog, ContinuousClock.now < deadline, !Task.isCancelled {
            try? await Task.sleep(for: interval / 4)
        }
    }
}

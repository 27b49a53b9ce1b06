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
    private let state = Mutex(State())

    private struct State {
        var backlog = 0
        /// Commands held back, each until the backlog is within bounds or its deadline passes.
        var held: [UInt64: (continuation: CheckedContinuation<Void, Never>, deadline: ContinuousClock.Instant)] = [:]
        var nextId: UInt64 = 0
    }

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
        self.init(maxBacklog: maxBacklog, logs: [log], projections: projections)
    }

    /// Measures the largest backlog of any partition's live generations of `projections`: a
    /// command waits while the read models of any partition are too far behind (its own may be).
    public convenience init(maxBacklog: Int, logs: [EventLog], projections: [any Projection]) {
        let partitions = logs.map { (ProjectionMonitor(log: $0), LiveGenerations(log: $0, projections: projections)) }
        self.init(maxBacklog: maxBacklog) {
            var largest = 0
            for (monitor, generations) in partitions {
                largest = max(largest, try await monitor.backlog(live: try await generations.live(projections.names), upTo: maxBacklog + 1))
            }
            return largest
        }
    }

    /// The last measured backlog, and how many commands are being held now.
    public var snapshot: (backlog: Int, held: Int) { state.withLock { ($0.backlog, $0.held.count) } }

    /// Measures until the task is cancelled, and lets held commands go once the backlog is within
    /// bounds (or their wait is over). A failed measurement (Redis down) counts as no backlog:
    /// commands then fail on their own with `unavailable`, never wait here for it.
    public func run() async {
        while !Task.isCancelled {
            let backlog = (try? await measure()) ?? 0
            let now = ContinuousClock.now
            let released = state.withLock { state in
                state.backlog = backlog
                let due = state.held.filter { backlog <= maxBacklog || $0.value.deadline <= now }
                for id in due.keys { state.held[id] = nil }
                return due.values.map(\.continuation)
            }
            for continuation in released { continuation.resume() }
            try? await Task.sleep(for: interval)
        }
        let left = state.withLock { state in defer { state.held = [:] }; return state.held.values.map(\.continuation) }
        for continuation in left { continuation.resume() }
    }

    /// Returns at once while the backlog is within bounds; otherwise when it is back within
    /// them, `maxWait` has passed, or the task is cancelled. A held command waits on a
    /// continuation that `run` resumes: no polling per command.
    public func admit() async {
        guard state.withLock({ $0.backlog }) > maxBacklog else { return }
        let id = state.withLock { state in
            state.nextId += 1
            return state.nextId
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let parked = state.withLock { state in
                    guard state.backlog > maxBacklog else { return false }
                    state.held[id] = (continuation, .now + maxWait)
                    return true
                }
                if !parked { continuation.resume() }
            }
        } onCancel: {
            state.withLock { $0.held.removeValue(forKey: id) }?.continuation.resume()
        }
    }
}

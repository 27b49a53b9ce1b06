import OrdersAPI
import Synchronization
import Testing

/// Commands wait while the read models are too far behind, and never longer than the bound.
struct WriteThrottleTests {
    @Test func aCommandIsHeldWhileTheBacklogIsOverTheBoundAndGoesOnOnceItIsBack() async throws {
        let backlog = Mutex(10)
        let throttle = WriteThrottle(maxBacklog: 5, maxWait: .seconds(600), interval: .milliseconds(5)) { backlog.withLock { $0 } }
        let measuring = Task { await throttle.run() }
        defer { measuring.cancel() }
        try await until { throttle.snapshot.backlog == 10 }

        let command = Task { await throttle.admit() }
        try await until { throttle.snapshot.held == 1 } // it is being held
        backlog.withLock { $0 = 3 }                      // the projectors caught up
        await command.value
        #expect(throttle.snapshot.held == 0)

        await throttle.admit() // within bounds: at once
    }

    @Test func noCommandWaitsLongerThanTheBound() async {
        let throttle = WriteThrottle(maxBacklog: 5, maxWait: .milliseconds(50), interval: .milliseconds(5)) { 1_000_000 }
        let measuring = Task { await throttle.run() }
        defer { measuring.cancel() }
        while throttle.snapshot.backlog == 0 { await Task.yield() }
        await throttle.admit() // returns although the backlog never falls
        #expect(throttle.snapshot.held == 0)
    }

    /// Waits for a condition, with a deadline.
    private func until(_ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(30)
        while !condition() {
            guard ContinuousClock.now < deadline else { throw CancellationError() }
            try await Task.sleep(for: .milliseconds(1))
        }
    }
}

/// Retries `body` until it succeeds or the deadline passes, then rethrows the last error.
/// Tests wait for asynchronous work this way: a condition with a deadline, never a fixed sleep.
public func eventually<T>(within limit: Duration = .seconds(10), _ body: () async throws -> T) async throws -> T {
    let deadline = ContinuousClock.now + limit
    while true {
        do { return try await body() } catch {
            if ContinuousClock.now >= deadline { throw error }
            try await Task.sleep(for: .milliseconds(10))
        }
    }
}

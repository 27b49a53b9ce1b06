import OrdersReadSide
import Synchronization

/// Kills work at a crash point the way a killed process dies (`CrashPoints`: the task stops
/// there for good), and tells the test that it did, so the test can go on as the next process.
public final class Crasher: Sendable {
    /// What to do when the work of the current `outcome(of:)` dies.
    private let onDeath = Mutex<(@Sendable () -> Void)?>(nil)

    public init() {}

    /// Crash points that kill the work where `dies` says so.
    public func crashPoints(_ dies: @escaping @Sendable (CrashPoints.Point) -> Bool) -> CrashPoints {
        CrashPoints { [self] point in
            guard dies(point) else { return false }
            onDeath.withLock { $0 }?()
            return true
        }
    }

    /// Runs `body` until it ends (its result, or its error) or dies at a crash point (nil). A
    /// dead body's task stays suspended for good, as a dead process is gone.
    public func outcome<T: Sendable>(of body: @escaping @Sendable () async throws -> T) async throws -> T? {
        let (events, sink) = AsyncStream.makeStream(of: Result<T, any Error>?.self)
        onDeath.withLock { $0 = { sink.yield(nil) } }
        defer { onDeath.withLock { $0 = nil } }
        Task {
            do { sink.yield(.success(try await body())) } catch { sink.yield(.failure(error)) }
        }
        for await event in events { return try event?.get() }
        return nil
    }
}

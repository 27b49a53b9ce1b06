import Foundation
import Synchronization

/// Runs `body` on `count` threads of their own (blocking clients must not sit on the
/// cooperative pool the server's handlers need) and returns their results in order.
public func onThreads<T: Sendable>(_ count: Int, _ body: @escaping @Sendable (Int) throws -> T) async throws -> [T] {
    let results = ThreadResults<T>()
    await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
        for index in 0..<count {
            let thread = Thread {
                let outcome = Result { try body(index) }
                let finished = results.state.withLock { state in
                    state.results[index] = outcome
                    return state.results.count == count
                }
                if finished { done.resume() }
            }
            thread.stackSize = 1 << 20
            thread.start()
        }
    }
    return try (0..<count).map { index in try results.state.withLock { $0.results[index]! }.get() }
}

final class ThreadResults<T: Sendable>: Sendable {
    struct State { var results: [Int: Result<T, any Error>] = [:] }
    let state = Mutex(State())
}

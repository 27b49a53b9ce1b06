import Dispatch
import Foundation
import Synchronization

/// One connection driven by one dedicated thread, shared by any number of callers.
///
/// Callers queue jobs (one or more commands each); the thread takes everything queued, writes it
/// in one go and reads the replies back in order, so concurrent callers are pipelined
/// automatically and each round trip serves many requests. hiredis blocks, and blocking belongs on
/// a thread of its own, never on Swift's cooperative pool.
///
/// When the connection breaks the lane reconnects on the next job; when connecting fails it backs
/// off (doubling up to a limit) and fails jobs at once with `unavailable` until the next attempt.
final class RedisLane: @unchecked Sendable {
    // @unchecked: `queue` state is behind `state`'s mutex; `connection`, `backoff`,
    // `nextConnectAttempt` and `lastConnectError` are touched only by the lane's own thread.

    struct Job: Sendable {
        let commands: [RedisCommand]
        let continuation: CheckedContinuation<[RedisValue], any Error>
    }

    private struct State: Sendable {
        var queue: [Job] = []
        var sleeping = false
        var closed = false
    }

    private let configuration: RedisConfiguration
    private let state = Mutex(State())
    private let wakeUp = DispatchSemaphore(value: 0)

    private var connection: RedisConnection?
    /// The Sentinel generation of the primary `connection` goes to.
    private var generation: UInt64 = 0
    private var backoff: Duration
    /// Connected at least once: a later connect is a reconnect (counted in `RedisStatistics`).
    private var hasConnected = false
    private var nextConnectAttempt = ContinuousClock.now
    private var lastConnectError: RedisError?

    /// Most commands written in one batch, so one huge burst cannot starve replies to later callers.
    private static let maxBatchCommands = 4096

    init(configuration: RedisConfiguration, name: String) {
        self.configuration = configuration
        self.backoff = configuration.reconnectBackoff.lowerBound
        let thread = Thread { [self] in run() }
        thread.name = name
        thread.start()
    }

    func submit(_ commands: [RedisCommand]) async throws -> [RedisValue] {
        try await withCheckedThrowingContinuation { continuation in
            let job = Job(commands: commands, continuation: continuation)
            let outcome: (wake: Bool, rejected: Bool) = state.withLock { state in
                if state.closed { return (false, true) }
                state.queue.append(job)
                if state.sleeping {
                    state.sleeping = false
                    return (true, false)
                }
                return (false, false)
            }
            if outcome.rejected { continuation.resume(throwing: RedisError.closed) }
            if outcome.wake { wakeUp.signal() }
        }
    }

    /// Fails queued jobs with `closed`, lets the thread finish its current batch and exit.
    func close() {
        let (jobs, wake): ([Job], Bool) = state.withLock { state in
            guard !state.closed else { return ([], false) }
            state.closed = true
            let jobs = state.queue
            state.queue = []
            let wake = state.sleeping
            state.sleeping = false
            return (jobs, wake)
        }
        for job in jobs { job.continuation.resume(throwing: RedisError.closed) }
        if wake { wakeUp.signal() }
    }

    // MARK: - The lane's thread

    private func run() {
        while true {
            let (jobs, closed) = takeBatch()
            if closed { break }
            if jobs.isEmpty {
                wakeUp.wait()
                continue
            }
            process(jobs)
        }
        connection?.close()
        connection = nil
    }

    private func takeBatch() -> ([Job], Bool) {
        state.withLock { state in
            if state.closed { return ([], true) }
            if state.queue.isEmpty {
                state.sleeping = true
                return ([], false)
            }
            var count = 0
            var taken = 0
            for job in state.queue {
                if taken > 0 && count + job.commands.count > Self.maxBatchCommands { break }
                count += job.commands.count
                taken += 1
            }
            let jobs = Array(state.queue.prefix(taken))
            state.queue.removeFirst(taken)
            return (jobs, false)
        }
    }

    private func process(_ jobs: [Job]) {
        let connection: RedisConnection
        do { connection = try connected() } catch {
            for job in jobs { job.continuation.resume(throwing: error) }
            return
        }
        do {
            for job in jobs { try connection.append(job.commands) }
        } catch {
            drop(connection)
            for job in jobs { job.continuation.resume(throwing: error) }
            return
        }
        for (index, job) in jobs.enumerated() {
            var replies: [RedisValue] = []
            replies.reserveCapacity(job.commands.count)
            do {
                for _ in job.commands { replies.append(try connection.readReply()) }
            } catch {
                drop(connection)
                for failed in jobs[index...] { failed.continuation.resume(throwing: error) }
                return
            }
            job.continuation.resume(returning: replies)
        }
    }

    private func connected() throws(RedisError) -> RedisConnection {
        if let connection, !connection.broken {
            if configuration.isCurrent(generation) { return connection }
            drop(connection) // the sentinels named another primary
        }
        if let lastConnectError, ContinuousClock.now < nextConnectAttempt { throw lastConnectError }
        do {
            let server = try configuration.server()
            let connection = try RedisConnection(url: server.url,
                                                 connectTimeout: configuration.connectTimeout,
                                                 commandTimeout: configuration.commandTimeout)
            self.connection = connection
            generation = server.generation
            if hasConnected { configuration.reconnected() }
            hasConnected = true
            backoff = configuration.reconnectBackoff.lowerBound
            lastConnectError = nil
            return connection
        } catch {
            lastConnectError = error
            nextConnectAttempt = ContinuousClock.now + backoff
            backoff = min(backoff * 2, configuration.reconnectBackoff.upperBound)
            throw error
        }
    }

    private func drop(_ connection: RedisConnection) {
        connection.close()
        self.connection = nil
    }
}

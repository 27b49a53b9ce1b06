import Synchronization
import EventLoops

/// One `RedisLoopConnection` per event loop of a group, each made on its loop when first used.
///
/// A caller running on one of the loops uses that loop's connection directly: its commands join
/// the turn's pipeline and its reply resumes it on the same thread. A caller elsewhere (a task on
/// Swift's global pool, a test) is served by the next loop round-robin, one hop each way.
final class RedisLoopConnections: Sendable {
    let group: EventLoopGroup
    let configuration: RedisConfiguration
    private let slots: [Slot]
    private let nextWaiterId = Atomic<UInt64>(1)

    /// A loop's connection: created, used and closed only on that loop's thread.
    private final class Slot: @unchecked Sendable {
        let loop: EventLoop
        private var connection: RedisLoopConnection?
        private let configuration: RedisConfiguration
        private var closed = false

        init(loop: EventLoop, configuration: RedisConfiguration) {
            self.loop = loop
            self.configuration = configuration
        }

        /// On the loop's thread.
        func submit(_ commands: [RedisCommand], id: UInt64, continuation: UnsafeContinuation<[RedisValue], any Error>) {
            guard !closed else {
                continuation.resume(throwing: RedisError.closed)
                return
            }
            if connection == nil { connection = RedisLoopConnection(loop: loop, configuration: configuration) }
            connection!.submit(commands, id: id, continuation: continuation)
        }

        func cancel(_ id: UInt64) { connection?.cancel(id) }

        func close() {
            closed = true
            connection?.close()
            connection = nil
        }
    }

    init(group: EventLoopGroup, configuration: RedisConfiguration) {
        self.group = group
        self.configuration = configuration
        self.slots = group.loops.map { Slot(loop: $0, configuration: configuration) }
    }

    func submit(_ commands: [RedisCommand]) async throws -> [RedisValue] {
        let id = nextWaiterId.wrappingAdd(1, ordering: .relaxed).oldValue
        let slot = slots[(group.current ?? group.next()).index]
        return try await withTaskCancellationHandler {
            try await withUnsafeThrowingContinuation { continuation in
                // A task cancelled before its command left does not send it (a cancel after this
                // reaches the loop behind the command, and finds its waiter).
                if Task.isCancelled {
                    continuation.resume(throwing: CancellationError())
                    return
                }
                // On the slot's own loop the command joins this turn at once; elsewhere it hops.
                if slot.loop.inEventLoop {
                    slot.submit(commands, id: id, continuation: continuation)
                } else {
                    slot.loop.execute { slot.submit(commands, id: id, continuation: continuation) }
                }
            }
        } onCancel: {
            slot.loop.execute { slot.cancel(id) }
        }
    }

    func close() {
        for slot in slots { slot.loop.execute { slot.close() } }
    }
}

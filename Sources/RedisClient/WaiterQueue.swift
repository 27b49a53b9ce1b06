/// Callers waiting for replies on one connection, in the order their commands were written.
struct Waiter {
    let id: UInt64
    let expected: Int
    var replies: [RedisValue] = []
    /// nil once the caller was cancelled (its replies are read and dropped), and for the login.
    var continuation: UnsafeContinuation<[RedisValue], any Error>?
    let deadline: ContinuousClock.Instant
    /// For the login's own commands: what a failure of this one means.
    var login: String?

    init(id: UInt64, expected: Int, continuation: UnsafeContinuation<[RedisValue], any Error>?,
         deadline: ContinuousClock.Instant, login: String? = nil) {
        self.id = id
        self.expected = expected
        self.continuation = continuation
        self.deadline = deadline
        self.login = login
    }
}

/// A FIFO of waiters without a shift per pop: a head index into an array that is compacted now
/// and then.
struct WaiterQueue {
    private var items: [Waiter] = []
    private var head = 0

    var oldestDeadline: ContinuousClock.Instant? { head < items.count ? items[head].deadline : nil }

    mutating func append(_ waiter: Waiter) {
        items.append(waiter)
    }

    /// Gives the next reply to the oldest waiter; returns that waiter once it has all its replies.
    /// A reply nobody waits for (impossible unless the stream desynchronised) is dropped.
    mutating func deliver(_ value: RedisValue) -> Waiter? {
        guard head < items.count else { return nil }
        items[head].replies.append(value)
        guard items[head].replies.count == items[head].expected else { return nil }
        let finished = items[head]
        head += 1
        if head == items.count {
            items.removeAll(keepingCapacity: true)
            head = 0
        } else if head >= 1024 && head * 2 >= items.count {
            items.removeFirst(head)
            head = 0
        }
        return finished
    }

    /// Detaches the continuation of the waiter `id`, if it still waits.
    mutating func abandon(_ id: UInt64) -> UnsafeContinuation<[RedisValue], any Error>? {
        guard let index = items[head...].firstIndex(where: { $0.id == id }) else { return nil }
        defer { items[index].continuation = nil }
        return items[index].continuation
    }

    /// Empties the queue; returns the continuations still waiting.
    mutating func removeAll() -> [UnsafeContinuation<[RedisValue], any Error>] {
        let waiting = items[head...].compactMap(\.continuation)
        items.removeAll()
        head = 0
        return waiting
    }
}

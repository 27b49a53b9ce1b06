import Synchronization
import CLinux
#if canImport(Glibc)
import Glibc
#endif

/// A socket an event loop watches: its readiness is handed to it on the loop's thread.
public protocol EventLoopSource: AnyObject {
    func handleEvents(_ events: UInt32)
}

/// Something that buffers writes during a loop turn and sends them once, at the turn's end: every
/// Redis command and every answer one turn produced leaves in one write per socket.
public protocol TurnEndFlushing: AnyObject {
    func flushAtTurnEnd()
}

/// One thread with its own epoll that owns sockets and runs tasks.
///
/// A turn: wait for readiness (or for work), hand each ready socket to its source, run every task
/// job that became ready (a request's handler, a task a Redis reply resumed), then flush what the
/// turn buffered. A request is read, handled, sent to Redis, resumed by the reply and answered on
/// this one thread: no thread hop, no lock on the way.
///
/// Everything but `execute` and the executor's `enqueue` must be called on the loop's thread;
/// the state they touch is the loop's alone.
public final class EventLoop: @unchecked Sendable {
    // @unchecked: `sources`, `jobs`, `flushes` and `tickers` are touched only by the loop's
    // thread; other threads reach the loop through `inbox` (a Mutex) and the eventfd.
    public let name: String
    /// Place in its group (0-based): owners of one resource per loop index by it.
    public let index: Int

    private let epoll: Int32
    private let wakeFd: Int32
    private static let wakeToken: UInt64 = 0
    private var nextToken: UInt64 = 1
    private var sources: [UInt64: any EventLoopSource] = [:]
    var jobs: [UnownedJob] = []
    private var spareJobs: [UnownedJob] = []
    private var flushes: [any TurnEndFlushing] = []
    private var tickers: [UInt64: () -> Void] = [:]
    private var nextTick = ContinuousClock.now
    /// One-shot timers, soonest last (so the due ones pop off the end).
    private var timers: [(at: ContinuousClock.Instant, work: () -> Void)] = []

    /// How often tickers run: the granularity of timeouts (Redis replies, idle clients).
    public static let tickInterval = Duration.milliseconds(50)
    /// Jobs run before the loop looks at its sockets again, so a burst of work cannot starve I/O.
    private static let jobsPerTurn = 2048

    struct Inbox {
        var jobs: [UnownedJob] = []
        var work: [@Sendable () -> Void] = []
        var sleeping = false
    }
    let inbox = Mutex(Inbox())

    /// Starts the loop's thread. It runs for the life of the process.
    public init(name: String, index: Int = 0) {
        self.name = name
        self.index = index
        epoll = epoll_create1(Int32(EPOLL_CLOEXEC))
        wakeFd = eventfd(0, Int32(EFD_CLOEXEC | EFD_NONBLOCK))
        precondition(epoll >= 0 && wakeFd >= 0, "an event loop needs epoll and an eventfd: \(String(cString: strerror(errno)))")
        var event = epoll_event()
        event.events = EPOLLIN.rawValue
        event.data.u64 = Self.wakeToken
        epoll_ctl(epoll, EPOLL_CTL_ADD, wakeFd, &event)
        startThread()
    }

    /// The loop whose thread is running the caller, if any.
    public static var current: EventLoop? {
        pthread_getspecific(currentLoopKey).map { Unmanaged<EventLoop>.fromOpaque($0).takeUnretainedValue() }
    }

    public var inEventLoop: Bool { pthread_getspecific(currentLoopKey) == Unmanaged.passUnretained(self).toOpaque() }

    /// Runs `work` on the loop's thread: at once if called there, else in the loop's next turn.
    public func execute(_ work: @escaping @Sendable () -> Void) {
        if inEventLoop {
            work()
            return
        }
        post { $0.work.append(work) }
    }

    /// Adds to the inbox from another thread, and wakes the loop if it sleeps.
    func post(_ add: (inout Inbox) -> Void) {
        let wake = inbox.withLock { inbox in
            add(&inbox)
            defer { inbox.sleeping = false }
            return inbox.sleeping
        }
        if wake { wakeUp() }
    }

    func wakeUp() {
        eventfd_write(wakeFd, 1)
    }

    // MARK: - Sockets, flushes, tickers (on the loop's thread)

    /// Watches `fd` for `events` (EPOLLIN, EPOLLOUT); returns the token to modify or remove it by.
    public func register(_ fd: Int32, events: UInt32, source: any EventLoopSource) -> UInt64 {
        let token = nextToken
        nextToken += 1
        sources[token] = source
        var event = epoll_event()
        event.events = events
        event.data.u64 = token
        epoll_ctl(epoll, EPOLL_CTL_ADD, fd, &event)
        return token
    }

    public func modify(_ fd: Int32, token: UInt64, events: UInt32) {
        var event = epoll_event()
        event.events = events
        event.data.u64 = token
        epoll_ctl(epoll, EPOLL_CTL_MOD, fd, &event)
    }

    /// Stops watching `fd` (call before closing it).
    public func deregister(_ fd: Int32, token: UInt64) {
        epoll_ctl(epoll, EPOLL_CTL_DEL, fd, nil)
        sources[token] = nil
    }

    /// Asks for `flushAtTurnEnd` once at the end of this turn. Callers keep their own "scheduled"
    /// flag so they are listed once.
    public func flushAtTurnEnd(_ flushing: any TurnEndFlushing) {
        flushes.append(flushing)
    }

    /// Calls `tick` every `tickInterval` until removed.
    public func addTicker(_ tick: @escaping () -> Void) -> UInt64 {
        let token = nextToken
        nextToken += 1
        tickers[token] = tick
        return token
    }

    public func removeTicker(_ token: UInt64) {
        tickers[token] = nil
    }

    /// Runs `work` once, at `deadline` or in the first turn after it (the loop waits no longer
    /// than the soonest timer).
    public func schedule(at deadline: ContinuousClock.Instant, _ work: @escaping () -> Void) {
        let index = timers.firstIndex { $0.at <= deadline } ?? timers.count
        timers.insert((deadline, work), at: index)
    }

    // MARK: - The loop

    private func startThread() {
        var thread = pthread_t()
        let context = Unmanaged.passRetained(self).toOpaque()
        let created = pthread_create(&thread, nil, { context in
            let loop = Unmanaged<EventLoop>.fromOpaque(context!).takeRetainedValue()
            loop.run()
            return nil
        }, context)
        precondition(created == 0, "could not start the event loop's thread")
        pthread_detach(thread)
    }

    private func run() {
        pthread_setspecific(currentLoopKey, Unmanaged.passUnretained(self).toOpaque())
        _ = clinux_set_thread_name(name)
        var events = [epoll_event](repeating: epoll_event(), count: 256)
        while true {
            let timeout = jobs.isEmpty && mayWait() ? waitMilliseconds() : 0
            let count = events.withUnsafeMutableBufferPointer { epoll_wait(epoll, $0.baseAddress, 256, timeout) }
            for index in 0..<max(0, Int(count)) {
                let event = events[index]
                if event.data.u64 == Self.wakeToken {
                    var value: eventfd_t = 0
                    _ = eventfd_read(wakeFd, &value)
                } else {
                    sources[event.data.u64]?.handleEvents(event.events)
                }
            }
            takeInbox()
            runTimers()
            runJobs()
            flush()
            runTickers()
        }
    }

    /// Whether the inbox is empty, marking the loop asleep if so (an `execute` or `enqueue` from
    /// another thread then wakes it through the eventfd).
    private func mayWait() -> Bool {
        inbox.withLock { inbox in
            guard inbox.jobs.isEmpty && inbox.work.isEmpty else { return false }
            inbox.sleeping = true
            return true
        }
    }

    private func waitMilliseconds() -> Int32 {
        let soonest = timers.last.map { min($0.at, nextTick) } ?? nextTick
        let left = soonest - ContinuousClock.now
        return Int32(max(0, min(Self.tickInterval.milliseconds, left.milliseconds + 1)))
    }

    private func runTimers() {
        let now = ContinuousClock.now
        while let last = timers.last, last.at <= now {
            timers.removeLast()
            last.work()
        }
    }

    private func takeInbox() {
        let (work, remoteJobs) = inbox.withLock { inbox -> ([@Sendable () -> Void], [UnownedJob]) in
            inbox.sleeping = false
            guard !inbox.jobs.isEmpty || !inbox.work.isEmpty else { return ([], []) }
            defer { inbox.jobs.removeAll(keepingCapacity: true); inbox.work.removeAll(keepingCapacity: true) }
            return (inbox.work, inbox.jobs)
        }
        jobs.append(contentsOf: remoteJobs)
        for item in work { item() }
    }

    private func runJobs() {
        var ran = 0
        let executor = asUnownedTaskExecutor()
        while !jobs.isEmpty && ran < Self.jobsPerTurn {
            swap(&jobs, &spareJobs)
            for job in spareJobs { job.runSynchronously(on: executor) }
            ran += spareJobs.count
            spareJobs.removeAll(keepingCapacity: true)
        }
    }

    private func flush() {
        while !flushes.isEmpty {
            let due = flushes
            flushes.removeAll(keepingCapacity: true)
            for flushing in due { flushing.flushAtTurnEnd() }
        }
    }

    private func runTickers() {
        let now = ContinuousClock.now
        guard now >= nextTick else { return }
        nextTick = now + Self.tickInterval
        for tick in Array(tickers.values) { tick() }
    }
}

private let currentLoopKey: pthread_key_t = {
    var key = pthread_key_t()
    pthread_key_create(&key, nil)
    return key
}()

extension Duration {
    /// Whole milliseconds (rounded down).
    var milliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}

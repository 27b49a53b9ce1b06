import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The service's event loops: one per core by default. Connections and tasks are spread over
/// them round-robin; each loop owns what it was given for good.
public final class EventLoopGroup: Sendable {
    public let loops: [EventLoop]
    private let nextIndex = Atomic<Int>(0)

    public init(loops count: Int, name: String = "orders-loop") {
        precondition(count >= 1, "an event loop group needs at least one loop")
        loops = (0..<count).map { EventLoop(name: "\(name)-\($0)", index: $0) }
    }

    /// The next loop, round-robin.
    public func next() -> EventLoop {
        let index = nextIndex.wrappingAdd(1, ordering: .relaxed).oldValue
        return loops[(index & Int.max) % loops.count]
    }

    /// The loop of this group the caller runs on, if it runs on one.
    public var current: EventLoop? {
        guard let loop = EventLoop.current, loop.index < loops.count, loops[loop.index] === loop else { return nil }
        return loop
    }

    /// The number of cores this process may run on (its CPU affinity), at least 1.
    public static var coreCount: Int {
        max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
    }
}

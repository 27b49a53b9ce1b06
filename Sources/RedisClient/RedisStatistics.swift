import Synchronization

/// Process-wide counts of the clients' connections, for the service's metrics.
public enum RedisStatistics {
    private static let reconnectCount = Atomic<Int>(0)

    /// Connections established again after one broke or failed (not first connects).
    public static var reconnects: Int { reconnectCount.load(ordering: .relaxed) }

    static func reconnected() { reconnectCount.add(1, ordering: .relaxed) }
}

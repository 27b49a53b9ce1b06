import Synchronization

/// Process-wide counts of the clients' connections, for the service's metrics.
public enum RedisStatistics {
    private static let reconnectCount = Atomic<Int>(0)

    /// Connections established again after one broke or failed (not first connects).
    public static var reconnects: Int { reconnectCount.load(ordering: .relaxed) }

    static func reconnected() { reconnectCount.add(1, ordering: .relaxed) }

    private static let switchCount = Atomic<Int>(0)
    private static let switchObserver = Mutex<(@Sendable (String) -> Void)?>(nil)

    /// Primaries switched to after a Sentinel failover (the first primary found not counted).
    public static var primarySwitches: Int { switchCount.load(ordering: .relaxed) }

    /// Calls `observer` with a line describing each primary a Sentinel-watched client finds (the
    /// service logs them).
    public static func observePrimaries(_ observer: @escaping @Sendable (String) -> Void) {
        switchObserver.withLock { $0 = observer }
    }

    static func foundPrimary(_ description: String, switched: Bool) {
        if switched { switchCount.add(1, ordering: .relaxed) }
        let observer = switchObserver.withLock { $0 }
        observer?(description)
    }
}

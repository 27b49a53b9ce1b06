import Foundation
import Synchronization

/// Which server is the primary of a `redis-sentinel://` URL, kept current on a thread of its own.
///
/// It asks the sentinels in turn (`SENTINEL get-master-addr-by-name`), checks that the server
/// named really is a primary (`ROLE`: during a failover a sentinel may still name the old one),
/// and then listens on that sentinel for `+switch-master` for a short while before asking again,
/// so a switch is followed at once and a missed message within half a second. Connections read
/// `current` when they connect, and drop themselves when its `generation` has moved on, so every
/// command after a switch goes to the new primary. A `READONLY` answer (the old primary demoted)
/// makes the client call `suspect()`: the next look comes at once.
///
/// Until the sentinels have named a verified primary, connecting fails with `unavailable`.
public final class SentinelMonitor: Sendable {
    public struct Primary: Sendable, Equatable {
        public let host: String
        public let port: Int
        /// Counts the switches seen: a connection made at an older generation is to an old primary.
        public let generation: UInt64
    }

    private let url: RedisURL
    private let known = Mutex<Primary?>(nil)
    private let suspected = Atomic<Bool>(false)
    private let closed = Atomic<Bool>(false)
    private let firstLook = DispatchSemaphore(value: 0)
    private let looked = Atomic<Bool>(false)

    /// How long one subscription to `+switch-master` listens before the sentinels are asked again.
    static let listenWindow = Duration.milliseconds(500)
    static let connectTimeout = Duration.milliseconds(500)

    /// One watch per URL in a process, shared by every client of it (while any holds it): each
    /// switch is seen, logged and counted once.
    static func watching(_ url: RedisURL) -> SentinelMonitor {
        let (monitor, isNew) = watches.withLock { watches in
            watches = watches.filter { $0.value.monitor != nil }
            if let existing = watches[url]?.monitor { return (existing, false) }
            let monitor = SentinelMonitor(url: url)
            watches[url] = Watch(monitor: monitor)
            return (monitor, true)
        }
        if isNew { monitor.start() }
        return monitor
    }

    private struct Watch { weak var monitor: SentinelMonitor? }
    private static let watches = Mutex<[RedisURL: Watch]>([:])

    private init(url: RedisURL) {
        self.url = url
    }

    /// Starts the thread and waits (up to 2 s) for its first look: a client's first command
    /// would fail without it.
    private func start() {
        let thread = Thread { [weak self] in
            while let monitor = self, !monitor.closed.load(ordering: .relaxed) {
                monitor.lookAndListen()
            }
        }
        thread.name = "redis-sentinel-\(url.masterName ?? "")"
        thread.start()
        _ = firstLook.wait(timeout: .now() + .seconds(2))
    }

    deinit { closed.store(true, ordering: .relaxed) }

    /// The primary as last verified (nil: none yet).
    public var current: Primary? { known.withLock { $0 } }

    /// Something suggests the primary changed (a `READONLY` answer): look again now.
    func suspect() { suspected.store(true, ordering: .relaxed) }

    // MARK: - The thread

    private func lookAndListen() {
        let found = askSentinels()
        if let (_, primary) = found { publish(primary) }
        // Whatever the first look found, `start` waits no longer.
        if !looked.exchange(true, ordering: .relaxed) { firstLook.signal() }
        guard let (sentinel, _) = found else {
            Thread.sleep(forTimeInterval: 0.2)
            return
        }
        listen(on: sentinel)
    }

    /// The first sentinel that names a primary which says it is one.
    private func askSentinels() -> (RedisURL.SentinelAddress, (host: String, port: Int))? {
        for sentinel in url.sentinels {
            guard let connection = try? RedisConnection(url: RedisURL(host: sentinel.host, port: sentinel.port),
                                                         connectTimeout: Self.connectTimeout, commandTimeout: Self.connectTimeout),
                  let reply = try? connection.send(RedisCommand("SENTINEL", "get-master-addr-by-name", url.masterName ?? "")),
                  let parts = reply.array, parts.count == 2, let host = parts[0].string, let port = parts[1].string.flatMap({ Int($0) })
            else { continue }
            connection.close()
            if isPrimary(host: host, port: port) { return (sentinel, (host, port)) }
        }
        return nil
    }

    private func isPrimary(host: String, port: Int) -> Bool {
        guard let connection = try? RedisConnection(url: url.at(host: host, port: port), connectTimeout: Self.connectTimeout,
                                                    commandTimeout: Self.connectTimeout),
              let role = try? connection.send(RedisCommand("ROLE")) else { return false }
        connection.close()
        return role.array?.first?.string == "master"
    }

    private func publish(_ primary: (host: String, port: Int)) {
        let changed: Primary? = known.withLock { known in
            if let known, known.host == primary.host && known.port == primary.port { return nil }
            known = Primary(host: primary.host, port: primary.port, generation: (known?.generation ?? 0) + 1)
            return known
        }
        if let changed {
            RedisStatistics.foundPrimary("master \(url.masterName ?? "") primary \(changed.host):\(changed.port) generation \(changed.generation)",
                                         switched: changed.generation > 1)
        }
    }

    /// Subscribes to `+switch-master` on `sentinel` for `listenWindow` (less when suspected).
    private func listen(on sentinel: RedisURL.SentinelAddress) {
        suspected.store(false, ordering: .relaxed)
        guard let connection = try? RedisConnection(url: RedisURL(host: sentinel.host, port: sentinel.port),
                                                     connectTimeout: Self.connectTimeout, commandTimeout: Self.listenWindow) else { return }
        defer { connection.close() }
        guard (try? connection.send(RedisCommand("SUBSCRIBE", "+switch-master"))) != nil else { return }
        // Each message: `<master-name> <old-ip> <old-port> <new-ip> <new-port>`. A read timeout
        // ends the window (the connection is then broken, and dropped).
        while !suspected.load(ordering: .relaxed), let message = try? connection.readReply() {
            guard let parts = message.array, parts.count == 3, let text = parts[2].string else { continue }
            let fields = text.split(separator: " ")
            guard fields.count == 5, String(fields[0]) == url.masterName, let port = Int(fields[4]) else { continue }
            if isPrimary(host: String(fields[3]), port: port) { publish((String(fields[3]), port)) }
            return
        }
    }
}

extension RedisValue {
    /// A server that is no longer (or not yet) the primary: it refused a write as a replica.
    var isReadOnlyRefusal: Bool {
        guard case .error(let message) = self else { return false }
        return message.hasPrefix("READONLY")
    }
}

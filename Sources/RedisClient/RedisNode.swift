import Synchronization
import EventLoops

/// Connections to one Redis server, of one of two kinds:
/// - on event loops: one non-blocking connection per loop (`RedisLoopConnections`);
/// - on lanes: `connections` blocking connections, each driven by a thread of its own (`RedisLane`).
final class RedisNode: Sendable {
    enum Kind: Sendable {
        case lanes
        case loops(EventLoopGroup)
    }

    private enum Backend: Sendable {
        case lanes([RedisLane])
        case loops(RedisLoopConnections)
    }

    private let backend: Backend
    private let nextLane = Atomic<Int>(0)

    init(_ configuration: RedisConfiguration, kind: Kind) {
        switch kind {
        case .lanes:
            backend = .lanes((0..<configuration.connections).map {
                RedisLane(configuration: configuration, name: "redis-lane-\($0)")
            })
        case .loops(let group):
            backend = .loops(RedisLoopConnections(group: group, configuration: configuration))
        }
    }

    func submit(_ commands: [RedisCommand]) async throws -> [RedisValue] {
        switch backend {
        case .lanes(let lanes):
            let index = nextLane.wrappingAdd(1, ordering: .relaxed).oldValue
            return try await lanes[(index & Int.max) % lanes.count].submit(commands)
        case .loops(let loops):
            return try await loops.submit(commands)
        }
    }

    func close() {
        switch backend {
        case .lanes(let lanes): for lane in lanes { lane.close() }
        case .loops(let loops): loops.close()
        }
    }
}

import EventLoops
import RedisClient

/// The two kinds of `RedisClient`: tests that hold for both run once per kind.
public enum ClientKind: String, CaseIterable, Sendable {
    case lanes
    case loops

    /// Loops shared by every test in the process (they live as long as it does).
    public static let testLoops = EventLoopGroup(loops: 2, name: "test-loop")

    public func client(_ configuration: RedisConfiguration) -> RedisClient {
        switch self {
        case .lanes: return RedisClient(configuration)
        case .loops: return RedisClient(configuration, on: Self.testLoops)
        }
    }

    public func client(url: RedisURL) -> RedisClient {
        client(RedisConfiguration(url: url))
    }
}

import Foundation
import RedisClient

/// Where the integration tests find Redis: `ORDERS_TEST_REDIS_URL`, set by `Scripts/test`.
///
/// Locally, tests that need Redis are skipped when it is unset (`shouldRun` is false). Under
/// `CI=true` they always run, and a missing or unreachable Redis fails them loudly.
public enum TestRedis {
    public static let variable = "ORDERS_TEST_REDIS_URL"

    public static var shouldRun: Bool {
        let env = ProcessInfo.processInfo.environment
        return env[variable] != nil || env["CI"] == "true"
    }

    public struct Missing: Error, CustomStringConvertible {
        public var description: String {
            "\(TestRedis.variable) is not set: run the tests through Scripts/test, which starts a Redis"
        }
    }

    /// Command timeout of the tests' clients: far above production's 5 s, so a machine starved of
    /// CPU (parallel tests, a busy CI host) slows the tests down instead of failing them.
    public static let commandTimeout: Duration = .seconds(30)

    public static func url() throws -> RedisURL {
        guard let text = ProcessInfo.processInfo.environment[variable] else { throw Missing() }
        return try RedisURL(text)
    }

    /// The Redis Cluster of `Scripts/test` (`ORDERS_TEST_CLUSTER_URL`, any node of it; started by
    /// `Scripts/cluster-up`): tests of the cluster path run when it is set, and always under
    /// `CI=true`, where a missing cluster fails them.
    public static let clusterVariable = "ORDERS_TEST_CLUSTER_URL"

    public static var shouldRunOnCluster: Bool {
        let env = ProcessInfo.processInfo.environment
        return env[clusterVariable] != nil || env["CI"] == "true"
    }

    public struct MissingCluster: Error, CustomStringConvertible {
        public var description: String {
            "\(TestRedis.clusterVariable) is not set: run the tests through Scripts/test, which starts a cluster"
        }
    }

    public static func clusterURL() throws -> RedisURL {
        guard let text = ProcessInfo.processInfo.environment[clusterVariable] else { throw MissingCluster() }
        return try RedisURL(text)
    }

    /// A fresh namespace per test, so tests running in parallel on one Redis never share keys.
    public static func uniqueNamespace(_ label: String = "test") -> String {
        "\(label)-\(UUID().uuidString.prefix(8).lowercased())"
    }
}

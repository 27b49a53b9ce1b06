import Foundation
import RedisClient
import Soak

/// Where the integration tests find Redis: `ORDERS_TEST_REDIS_URL`, set by `Scripts/test`.
///
/// Locally, tests that need Redis are skipped when it is unset (`shouldRun` is false). Under
/// `CI=true` they always run, and a missing or unreachable Redis fails them loudly.
public enum TestRedis {
    public static let variable = "ORDERS_TEST_REDIS_URL"

    public static var shouldRun: Bool { isGiven(variable) }

    /// A variable the tests need is missing: they are run outside `Scripts/test`.
    public struct Missing: Error, CustomStringConvertible {
        let variable: String
        public var description: String {
            "\(variable) is not set: run the tests through Scripts/test, which starts a Redis, a Redis Cluster and a Sentinel setup"
        }
    }

    /// Command timeout of the tests' clients: far above production's 5 s, so a machine starved of
    /// CPU (parallel tests, a busy CI host) slows the tests down instead of failing them.
    public static let commandTimeout: Duration = .seconds(30)

    public static func url() throws -> RedisURL { try url(of: variable) }

    /// The Redis Cluster of `Scripts/test` (`ORDERS_TEST_CLUSTER_URL`, any node of it; started by
    /// `Scripts/cluster-up`): tests of the cluster path run when it is set, and always under
    /// `CI=true`, where a missing cluster fails them.
    public static let clusterVariable = "ORDERS_TEST_CLUSTER_URL"

    public static var shouldRunOnCluster: Bool { isGiven(clusterVariable) }

    public static func clusterURL() throws -> RedisURL { try url(of: clusterVariable) }

    /// The Sentinel setup of `Scripts/test` (a primary, two replicas and three sentinels from
    /// `Scripts/sentinel-up`): `ORDERS_TEST_SENTINEL_URL`, its data folder in
    /// `ORDERS_TEST_SENTINEL_DATA` and first port in `ORDERS_TEST_SENTINEL_PORT`. The failover
    /// tests break its primary; they run when it is set, and always under `CI=true`.
    public static let sentinelVariable = "ORDERS_TEST_SENTINEL_URL"

    public static var shouldRunOnSentinel: Bool { isGiven(sentinelVariable) }

    public static func sentinel() throws -> Testbed {
        let env = ProcessInfo.processInfo.environment
        guard let data = env["ORDERS_TEST_SENTINEL_DATA"], let port = env["ORDERS_TEST_SENTINEL_PORT"].flatMap({ Int($0) }) else {
            throw Missing(variable: "ORDERS_TEST_SENTINEL_DATA and ORDERS_TEST_SENTINEL_PORT")
        }
        return Testbed(.sentinel, url: try url(of: sentinelVariable), data: data, firstPort: port)
    }

    private static func isGiven(_ name: String) -> Bool {
        let env = ProcessInfo.processInfo.environment
        return env[name] != nil || env["CI"] == "true"
    }

    private static func url(of name: String) throws -> RedisURL {
        guard let text = ProcessInfo.processInfo.environment[name] else { throw Missing(variable: name) }
        return try RedisURL(text)
    }

    /// A fresh namespace per test, so tests running in parallel on one Redis never share keys.
    public static func uniqueNamespace(_ label: String = "test") -> String {
        "\(label)-\(UUID().uuidString.prefix(8).lowercased())"
    }
}

import Foundation
import OrdersAPI
import RedisClient

/// One `orders serve` process on a port of its own, started, killed (SIGKILL, as a crash) and
/// restarted on the same port by the suites.
public final class ServiceProcess: @unchecked Sendable {
    // @unchecked: a suite starts and kills it from one task at a time.
    public let port: Int
    public let log: URL
    private let arguments: [String]
    private var child: ChildProcess?

    /// `descriptorLimit` starts the service under that `ulimit -n`.
    public init(binary: String, redis: RedisURL, namespace: String, extraArguments: [String] = [],
                descriptorLimit: Int? = nil) throws {
        port = try RedisServerProcess.freePort()
        let command = [binary, "serve", "--redis", redis.description, "--port", "\(port)", "--namespace", namespace] + extraArguments
        if let descriptorLimit {
            arguments = ["/bin/sh", "-c", "ulimit -n \(descriptorLimit) && exec \"$0\" \"$@\""] + command
        } else {
            arguments = command
        }
        log = FileManager.default.temporaryDirectory.appendingPathComponent("orders-serve-\(namespace)-\(port).log")
    }

    deinit { kill() }

    public var pid: pid_t? { child?.pid }

    /// Starts the service and waits (up to `within`) until it answers `health`.
    public func start(within limit: Duration = .seconds(30)) async throws {
        child = try ChildProcess.spawn(arguments, log: log)
        _ = try await eventually(within: limit) {
            try await onThreads(1) { [port] _ in _ = try OrdersClient(port: port, timeout: .seconds(2)).call("health") }
        }
    }

    /// Asks the process to stop (SIGTERM), waits for it, and returns its exit code.
    public func terminate() -> Int32? {
        defer { child = nil }
        return child?.stop(SIGTERM)
    }

    /// Ends the process at once (SIGKILL) and reaps it.
    public func kill() {
        child?.stop(SIGKILL)
        child = nil
    }

    /// Resident memory in bytes (VmRSS), or nil when the process is not running.
    public var residentBytes: Int? {
        guard let pid = child?.pid,
              let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
              let kilobytes = Int(line.split(separator: " ").dropFirst().first ?? "") else { return nil }
        return kilobytes * 1024
    }

    /// Where the `orders` binary is: beside `executable` (both are built into the same folder).
    public static func binary(besides executable: String) -> String {
        URL(fileURLWithPath: executable).resolvingSymlinksInPath()
            .deletingLastPathComponent().appendingPathComponent("orders").path
    }
}

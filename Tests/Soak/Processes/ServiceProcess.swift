import Foundation
import OrdersAPI
import RedisClient

/// One `orders serve` process on a port of its own, started, killed (SIGKILL, as a crash) and
/// restarted on the same port by the suites.
public final class ServiceProcess: @unchecked Sendable {
    // @unchecked: a suite starts and kills it from one task at a time.
    /// Chosen free; chosen again if another process took it before the service bound it.
    public private(set) var port: Int
    /// The HTTP API's port, chosen the same way.
    public private(set) var httpPort: Int
    public let log: URL
    private let command: (Int, Int) -> [String]
    private var child: ChildProcess?
    /// Once it has run, it is restarted on the same port.
    private var startedBefore = false

    /// `descriptorLimit` starts the service under that `ulimit -n`. Out of descriptors, Swift's
    /// crash reporter cannot run, so such a service dumps core into `coreDirectory` instead (the
    /// kernel writes it whatever the limit).
    public init(binary: String, redis: RedisURL, namespace: String, extraArguments: [String] = [],
                descriptorLimit: Int? = nil) throws {
        port = try RedisServerProcess.freePort()
        httpPort = try RedisServerProcess.freePort()
        let cores = FileManager.default.temporaryDirectory.appendingPathComponent("orders-serve-cores-\(namespace)")
        coreDirectory = descriptorLimit == nil ? nil : cores
        command = { port, httpPort in
            let serve = [binary, "serve", "--redis", redis.description, "--port", "\(port)", "--http-port", "\(httpPort)",
                         "--namespace", namespace,
                         // The log trimmed right behind the projections: the harshest retention,
                         // under every suite's crashes and outages.
                         "--log-retention", "0"] + extraArguments
            guard let descriptorLimit else { return serve }
            try? FileManager.default.createDirectory(at: cores, withIntermediateDirectories: true)
            return ["/bin/sh", "-c", "cd '\(cores.path)' && ulimit -c unlimited; export SWIFT_BACKTRACE=enable=no; "
                        + "ulimit -n \(descriptorLimit) && exec \"$0\" \"$@\""] + serve
        }
        log = FileManager.default.temporaryDirectory.appendingPathComponent("orders-serve-\(namespace)-\(port).log")
    }

    deinit {
        kill()
        // Kept only when it holds a core dump.
        if let coreDirectory, (try? FileManager.default.contentsOfDirectory(atPath: coreDirectory.path))?.isEmpty ?? false {
            try? FileManager.default.removeItem(at: coreDirectory)
        }
    }

    public var pid: pid_t? { child?.pid }
    /// Where a service started with a descriptor limit dumps core if it crashes.
    public let coreDirectory: URL?
    /// Whether the service is still running (false once it exited or crashed).
    public var isRunning: Bool { child?.isRunning ?? false }

    /// Starts the service and waits (up to `within`) until it answers `health`. If it exits
    /// because its port was taken meanwhile (tests start processes in parallel), it is started
    /// again: the first time on another port, a restart on the same one a moment later.
    public func start(within limit: Duration = .seconds(30)) async throws {
        for _ in 0..<5 {
            let logged = (try? Data(contentsOf: log).count) ?? 0
            let started = try ChildProcess.spawn(command(port, httpPort), log: log)
            child = started
            let deadline = ContinuousClock.now + limit
            while started.isRunning {
                let answered = (try? await onThreads(1) { [port] _ in
                    _ = try OrdersClient(port: port, timeout: .seconds(2)).call("health")
                }) != nil
                if answered {
                    startedBefore = true
                    return
                }
                guard ContinuousClock.now < deadline else { throw Exited(description: "orders serve did not answer health within \(limit)") }
                try await Task.sleep(for: .milliseconds(10))
            }
            child = nil // it exited (and was reaped)
            let output = (try? Data(contentsOf: log)).map { String(decoding: $0.dropFirst(logged), as: UTF8.self) } ?? ""
            guard output.contains("Address already in use") else { throw Exited() }
            if startedBefore {
                try await Task.sleep(for: .milliseconds(100)) // a restart keeps its port: clients know it
            } else {
                port = try RedisServerProcess.freePort()
                httpPort = try RedisServerProcess.freePort()
            }
        }
        throw Exited()
    }

    /// The service exited before it answered.
    public struct Exited: Error, CustomStringConvertible {
        public var description = "orders serve exited before it answered health (see its log)"
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

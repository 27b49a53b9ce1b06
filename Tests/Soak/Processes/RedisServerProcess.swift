import Foundation
import RedisClient

/// A private redis-server that a test starts, kills and restarts on its own, for the tests that
/// break the server on purpose or need settings (a password, ACL users) the shared one lacks.
/// The data folder survives restarts, so a restart loads the AOF as a real one would.
///
public final class RedisServerProcess: @unchecked Sendable {
    // @unchecked: a test drives one instance from one task at a time.
    /// The port it listens on: chosen free, and chosen again if another process took it first.
    public private(set) var port: Int
    public let directory: URL
    private let extraArguments: [String]
    private var child: ChildProcess?
    /// Once it has run, it is restarted on the same port.
    private var startedBefore = false

    public init(arguments: [String] = []) throws {
        self.port = try Self.freePort()
        self.directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("orders-test-redis-\(UUID().uuidString.prefix(8))")
        self.extraArguments = arguments
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    deinit {
        kill()
        try? FileManager.default.removeItem(at: directory)
    }

    public var url: RedisURL { RedisURL(host: "127.0.0.1", port: port) }

    /// Starts the server and waits (up to 10 s) until it answers PING. A free port can be taken
    /// by another process between choosing it and binding it (tests start servers in parallel):
    /// then the server exits at once, and it is started again on another port.
    public func start() throws {
        let logFile = directory.appendingPathComponent("redis.log")
        for _ in 0..<5 {
            let logged = (try? Data(contentsOf: logFile).count) ?? 0
            let arguments = [try Self.redisServerPath(), "--port", "\(port)", "--bind", "127.0.0.1",
                             "--dir", directory.path, "--appendonly", "yes", "--save", "",
                             "--daemonize", "no", "--logfile", logFile.path]
                + extraArguments
            let started = try ChildProcess.spawn(arguments, log: directory.appendingPathComponent("stdout.log"))
            child = started
            let deadline = ContinuousClock.now + .seconds(10)
            while ContinuousClock.now < deadline {
                if Self.answersPing(port: port) {
                    startedBefore = true
                    return
                }
                if !started.isRunning { break } // it exited: most likely the port was taken
                usleep(20_000)
            }
            if started.isRunning { started.stop(SIGKILL) } // (isRunning reaps one that exited)
            child = nil
            let log = (try? Data(contentsOf: logFile)).map { String(decoding: $0.dropFirst(logged), as: UTF8.self) } ?? ""
            guard log.contains("Address already in use") else { break }
            if startedBefore {
                // A restart keeps its port (clients know it): the killed server's forked child (the
                // AOF rewrite at start-up) may hold it a moment longer.
                usleep(100_000)
            } else {
                port = try Self.freePort()
            }
        }
        throw ServerError(message: "redis-server on port \(port) did not answer PING within 10 s")
    }

    /// Freezes the server (SIGSTOP) as a stalled machine would: connections stay open, nothing
    /// is answered, until `resume`.
    public func pause() {
        if let pid = child?.pid { _ = Foundation.kill(pid, SIGSTOP) }
    }

    public func resume() {
        if let pid = child?.pid { _ = Foundation.kill(pid, SIGCONT) }
    }

    /// Ends the server at once (SIGKILL), as a crash would, and reaps it.
    public func kill() {
        child?.stop(SIGKILL)
        child = nil
    }

    public struct ServerError: Error, CustomStringConvertible {
        public let message: String
        public var description: String { message }
    }

    private static func redisServerPath() throws -> String {
        for path in ["/usr/bin/redis-server", "/usr/local/bin/redis-server"]
        where FileManager.default.isExecutableFile(atPath: path) {
            return path
        }
        throw ServerError(message: "redis-server not found: run Scripts/bootstrap")
    }

    private static func answersPing(port: Int) -> Bool {
        guard let connection = try? RedisConnection(url: RedisURL(host: "127.0.0.1", port: port),
                                                    connectTimeout: .milliseconds(200)) else { return false }
        // A password-protected server answers NOAUTH, which still means it is up.
        return (try? connection.send(RedisCommand("PING"))) != nil
    }

    /// Asks the kernel for a free port by binding port 0, then releases it for the server.
    public static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw ServerError(message: "socket() failed") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(fd, pointer, length) == 0 && getsockname(fd, pointer, &length) == 0
            }
        }
        guard bound else { throw ServerError(message: "could not bind a free port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

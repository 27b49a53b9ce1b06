import CLinux
import Foundation

/// A child process started with posix_spawn and reaped with waitpid (Foundation's
/// `Process.waitUntilExit` spins its run loop off the main thread, where Swift Testing runs).
public struct ChildProcess: Sendable {
    public let pid: pid_t

    /// Starts `arguments[0]` with the rest as its arguments; its stdout and stderr go to `log`,
    /// and it inherits no other descriptor.
    public static func spawn(_ arguments: [String], log: URL) throws -> ChildProcess {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, log.path, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        // Nothing else of ours: a test process holds hundreds of sockets that are not close-on-exec,
        // and a child started under `ulimit -n` must start with only its own.
        posix_spawn_file_actions_addclosefrom_np(&actions, 3)
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        let status = posix_spawn(&pid, arguments[0], &actions, nil, &argv, environ)
        guard status == 0 else { throw SpawnError(description: "posix_spawn \(arguments[0]) failed: \(status)") }
        return ChildProcess(pid: pid)
    }

    /// True until the process has exited (it is reaped when it has).
    public var isRunning: Bool {
        var status: Int32 = 0
        return waitpid(pid, &status, WNOHANG) == 0
    }

    /// Runs `arguments` to its end (or kills it after `limit`) and returns its exit code.
    public static func run(_ arguments: [String], log: URL, within limit: Duration) async throws -> Int32 {
        let child = try spawn(arguments, log: log)
        let deadline = ContinuousClock.now + limit
        while true {
            var status: Int32 = 0
            if waitpid(child.pid, &status, WNOHANG) == child.pid {
                let terminatedBy = status & 0x7f
                return terminatedBy == 0 ? (status >> 8) & 0xff : 128 + terminatedBy
            }
            if ContinuousClock.now >= deadline { return child.stop() }
            // Polling a child's exit: waitpid has no async form.
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Sends `signal` and waits until the process has exited; returns its exit code, or 128 plus
    /// the signal that ended it.
    @discardableResult
    public func stop(_ signal: Int32 = SIGKILL) -> Int32 {
        _ = kill(pid, signal)
        var status: Int32 = 0
        _ = waitpid(pid, &status, 0)
        let terminatedBy = status & 0x7f
        return terminatedBy == 0 ? (status >> 8) & 0xff : 128 + terminatedBy
    }

    public struct SpawnError: Error, CustomStringConvertible {
        public let description: String
    }
}

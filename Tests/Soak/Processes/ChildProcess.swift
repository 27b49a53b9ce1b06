import CLinux
import Foundation

/// A child process started with posix_spawn and reaped with waitpid (Foundation's
/// `Process.waitUntilExit` spins its run loop off the main thread, where Swift Testing runs).
public struct ChildProcess: Sendable {
    public let pid: pid_t

    /// Starts `arguments[0]` with the rest as its arguments; its stdout and stderr go to `log`,
    /// and it inherits no other descriptor.
    public static func spawn(_ arguments: [String], log: URL) throws -> ChildProcess {
        try spawn(arguments, stdout: log, stderr: nil)
    }

    /// The same with stdout and stderr in files of their own (`stderr` nil: with stdout).
    public static func spawn(_ arguments: [String], stdout: URL, stderr: URL?, stdin: URL? = nil) throws -> ChildProcess {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        if let stdin { posix_spawn_file_actions_addopen(&actions, 0, stdin.path, O_RDONLY, 0) }
        posix_spawn_file_actions_addopen(&actions, 1, stdout.path, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        if let stderr {
            posix_spawn_file_actions_addopen(&actions, 2, stderr.path, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        } else {
            posix_spawn_file_actions_adddup2(&actions, 1, 2)
        }
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

    /// Runs `arguments` to its end with `input` on its stdin; returns its exit code and what it
    /// printed on stdout and on stderr. (Not Foundation's `Process`: its `run` crashed in memcpy
    /// with several tests spawning at once.)
    public static func output(_ arguments: [String], input: String = "") throws -> (status: Int32, stdout: String, stderr: String) {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("orders-child-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let stdin = folder.appendingPathComponent("stdin"), stdout = folder.appendingPathComponent("stdout"),
            stderr = folder.appendingPathComponent("stderr")
        try Data(input.utf8).write(to: stdin)
        let status = try spawn(arguments, stdout: stdout, stderr: stderr, stdin: stdin).waitForExit()
        return (status, (try? String(contentsOf: stdout, encoding: .utf8)) ?? "", (try? String(contentsOf: stderr, encoding: .utf8)) ?? "")
    }

    /// Waits until the process exits and returns its exit code (or 128 plus its signal).
    public func waitForExit() -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let terminatedBy = status & 0x7f
        return terminatedBy == 0 ? (status >> 8) & 0xff : 128 + terminatedBy
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

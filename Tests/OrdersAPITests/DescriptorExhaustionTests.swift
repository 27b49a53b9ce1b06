import Foundation
import OrdersAPI
import Testing
import TestSupport

/// A server out of file descriptors pauses accepting instead of spinning, and keeps serving the
/// connections it has.
@Suite(.enabled(if: TestRedis.shouldRun))
struct DescriptorExhaustionTests {
    /// utime + stime of a process, in clock ticks.
    private func cpuTicks(_ pid: pid_t) throws -> Int {
        let stat = try String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)
        let fields = stat[stat.index(after: stat.lastIndex(of: ")")!)...].split(separator: " ")
        return Int(fields[11])! + Int(fields[12])! // fields 14 and 15 of the whole line
    }

    @Test func moreClientsThanDescriptorsPauseAcceptingWithoutSpinning() async throws {
        let service = try ServiceProcess(binary: ServiceProcess.binary(besides: CommandLine.arguments[0]), redis: try TestRedis.url(),
                                         namespace: TestRedis.uniqueNamespace("emfile"), descriptorLimit: 64)
        try await service.start()
        defer { service.kill() }
        let pid = try #require(service.pid)
        let port = service.port
        let log = service.log

        let (pausedLines, spent, servedMeanwhile, servedAfter) = try await onThreads(1) { _ in
            let bystander = try OrdersClient(port: port)
            _ = try bystander.call("health")
            // The kernel completes these connections (the listen backlog); the server runs out of
            // descriptors accepting them.
            var crowd: [OrdersClient] = []
            for _ in 0..<100 { crowd.append(try OrdersClient(port: port)) }
            let deadline = ContinuousClock.now + .seconds(30)
            while !((try? String(contentsOf: log, encoding: .utf8))?.contains("server.accept_paused") ?? false) {
                guard ContinuousClock.now < deadline else { break }
                usleep(10_000)
            }
            // The work done while the crowd waits: a spinning loop burns a whole core.
            let before = try cpuTicks(pid)
            usleep(1_000_000)
            let spent = try cpuTicks(pid) - before
            let servedMeanwhile = (try? bystander.call("health")) != nil
            crowd.removeAll() // they leave; descriptors free up
            let servedAfter = try eventuallyOnThread { _ = try OrdersClient(port: port, timeout: .seconds(2)).call("health") }
            let lines = try String(contentsOf: log, encoding: .utf8).split(separator: "\n").filter { $0.contains("server.accept_paused") }
            return (lines.count, spent, servedMeanwhile, servedAfter)
        }[0]
        #expect(pausedLines == 1, "logged once")
        #expect(spent < 25, "CPU ticks in one second of exhaustion: \(spent) (a spinning accept loop uses ~100)")
        #expect(servedMeanwhile, "the connections it has are served")
        #expect(servedAfter, "new connections are accepted once descriptors are free")
        #expect(service.isRunning, "orders serve died out of descriptors: see \(log.path) and a core dump in \(service.coreDirectory?.path ?? "-")")
    }

    private func eventuallyOnThread(_ body: () throws -> Void) throws -> Bool {
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            if (try? body()) != nil { return true }
            usleep(50_000)
        }
        return false
    }
}

import Foundation
import OrdersAPI
import Testing
import TestSupport

@Suite(.enabled(if: TestRedis.shouldRun))
struct SlowClientTests {
    /// 1,000 idle connections and 5 slow-loris clients (a byte at a time, never a whole line):
    /// valid requests keep being answered, the slow ones are closed once their line is older than
    /// the line timeout, and the idle ones stay usable (their idle timeout is much longer).
    @Test func slowAndIdleClientsNeitherStarveOthersNorHoldAConnection() async throws {
        let server = try await TestServer(configuration: ServerConfiguration(host: "127.0.0.1", port: 0,
                                                                               idleTimeout: .seconds(300), lineTimeout: .seconds(1)))
        defer { Task { await server.stop() } }
        let (slowClosed, idleUsable, served, failed) = try await onThreads(1) { _ -> (Bool, Bool, Int, Int) in
            let idle = try (0..<1000).map { _ in try server.client() }
            let slow = try (0..<5).map { _ in try OrdersClient(port: server.port, timeout: .milliseconds(200)) }
            for client in slow { try client.sendRaw(Array(#"{"id":1,"op":"hea"#.utf8)) }
            let valid = try server.client()
            var served = 0, failed = 0
            var closed = Set<Int>()
            let deadline = ContinuousClock.now + .seconds(10)
            while ContinuousClock.now < deadline && closed.count < slow.count {
                for (index, client) in slow.enumerated() where !closed.contains(index) {
                    try? client.sendRaw([UInt8(ascii: "l")]) // one more byte, never the newline
                    if isClosed(client) { closed.insert(index) }
                }
                if (try? valid.call("health") as? [String: Any])?["status"] as? String == "ok" { served += 1 } else { failed += 1 }
            }
            let idleUsable = (try? idle[500].call("health") as? [String: Any])?["status"] as? String == "ok"
            return (closed.count == slow.count, idleUsable, served, failed)
        }[0]
        #expect(slowClosed, "every slow-loris connection was closed")
        #expect(idleUsable, "an idle connection is still served")
        #expect(served > 0 && failed == 0, "valid requests kept being answered: \(served) served, \(failed) failed")
    }

    /// Closed when the server ended the connection (EOF or reset); open when no answer came
    /// within the client's short timeout.
    private func isClosed(_ client: OrdersClient) -> Bool {
        do {
            return try client.receiveLine() == nil
        } catch let failure as OrdersClient.Failure {
            return !failure.message.contains("within the timeout")
        } catch {
            return true
        }
    }
}

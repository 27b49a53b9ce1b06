import Foundation
import OrdersAPI
import Testing
import TestSupport

/// A client follows a replay by asking the server to answer once a phase is reached
/// (`replayStatus` with `waitMs` and `untilPhase`), not by polling on a timer.
@Suite(.enabled(if: TestRedis.shouldRun))
struct ReplayFollowTests {
    @Test func replayStatusWaitsForThePhaseAskedFor() async throws {
        let server = try await TestServer()
        let client = try server.client()
        for _ in 0..<20 { _ = try client.call("createOrder", createRequest) }
        let started = try client.call("replay", ["projection": "all"]) as? [String: Any] ?? [:]
        let live = try client.call("replayStatus", ["waitMs": 10_000, "untilPhase": ["cleaning", "done"]]) as? [String: Any] ?? [:]
        #expect(live["id"] as? String == started["id"] as? String)
        #expect(["cleaning", "done"].contains(live["phase"] as? String), "answered at a phase asked for: \(live)")
        let done = try client.call("replayStatus", ["waitMs": 10_000, "untilPhase": ["done"]]) as? [String: Any] ?? [:]
        #expect(done["phase"] as? String == "done")
        // Without untilPhase the wait is simply over: the answer is the status then.
        let now = try client.call("replayStatus", ["waitMs": 50]) as? [String: Any] ?? [:]
        #expect(now["phase"] as? String == "done")
        for bad: [String: Any] in [["untilPhase": ["sleeping"]], ["untilPhase": "done"], ["waitMs": 20_000]] {
            #expect(throws: OrdersClient.Failure.self) { try client.call("replayStatus", bad) }
        }
        await server.stop()
    }
}

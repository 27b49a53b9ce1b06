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
        // Each call waits at most 2 s: a follower calls again until the phase comes (or its own
        // deadline passes).
        func follow(until phases: [String]) throws -> [String: Any] {
            let deadline = ContinuousClock.now + .seconds(60)
            while true {
                let status = try client.call("replayStatus", ["waitMs": 2_000, "untilPhase": phases]) as? [String: Any] ?? [:]
                if phases.contains(status["phase"] as? String ?? "") || ContinuousClock.now > deadline { return status }
            }
        }
        let live = try follow(until: ["cleaning", "done"])
        #expect(live["id"] as? String == started["id"] as? String)
        #expect(["cleaning", "done"].contains(live["phase"] as? String), "answered at a phase asked for: \(live)")
        let done = try follow(until: ["done"])
        #expect(done["phase"] as? String == "done")
        // Without untilPhase there is nothing to wait for: the answer is the status now.
        let now = try client.call("replayStatus", ["waitMs": 50]) as? [String: Any] ?? [:]
        #expect(now["phase"] as? String == "done")
        for bad: [String: Any] in [["untilPhase": ["sleeping"]], ["untilPhase": "done"], ["untilPhase": [String]()], ["waitMs": 2_001]] {
            #expect(throws: OrdersClient.Failure.self) { try client.call("replayStatus", bad) }
        }
        await server.stop()
    }
}

import OrdersEventLog
import OrdersReadSide
import Testing
import TestSupport

/// The status of a store that has no log yet (before its first write and before its projectors
/// created their consumer groups): nothing behind, no error. Readiness asks this right after a
/// start, and answered 503 "the projections' status cannot be read" in that moment.
@Suite(.enabled(if: TestRedis.shouldRun))
struct ProjectionStatusTests {
    @Test func aStoreWithoutALogIsNotBehind() async throws {
        let store = try await makeStore("nolog")
        let monitor = ProjectionMonitor(log: store.log)
        let status = try await monitor.status(projection: "order", generation: 1)
        #expect(status.lagEvents == 0 && status.lagMilliseconds == 0 && status.lastDelivered == nil)
        #expect(try await monitor.backlog(live: ["order": 1, "summary": 1], upTo: 100) == 0)
        let reports = try await ReadSideOperator(log: store.log).reports()
        #expect(reports.allSatisfy { $0.status.lagEvents == 0 })
    }
}

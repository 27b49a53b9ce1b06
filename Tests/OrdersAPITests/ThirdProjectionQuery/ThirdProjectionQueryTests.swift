import Foundation
import OrdersAPI
import OrdersDomain
import OrdersReadSide
import Testing
import TestSupport

/// Adding a query is its read-side function plus one operation file: a server whose catalogue
/// adds `CountOrdersByStatusAndDay` (and whose projectors run the third projection) serves it on
/// both protocols, read-your-writes included, and counts it in the metrics under its name.
@Suite(.enabled(if: TestRedis.shouldRun))
struct ThirdProjectionQueryTests {
    @Test func theThirdProjectionsQueryIsOneOperationOnBothProtocols() async throws {
        let server = try await TestServer(catalogue: OperationCatalogue.standard.adding([CountOrdersByStatusAndDay.self]),
                                          projections: Projections.standard + [OrdersPerStatusAndDay()])
        do {
            let client = try server.client()
            var position = ""
            for _ in 0..<3 {
                let created = try client.call("createOrder", createRequest) as? [String: Any]
                position = created?["position"] as? String ?? ""
            }
            let first = try client.call("createOrder", createRequest) as? [String: Any]
            let moved = try client.call("updateStatus", ["orderId": first?["orderId"] ?? "", "status": "confirmed"]) as? [String: Any]
            position = moved?["position"] as? String ?? position
            // By status, whatever the day (a run may cross midnight UTC).
            func byStatus(_ counts: [String: Int]?) -> [String: Int] {
                Dictionary((counts ?? [:]).map { (String($0.key.prefix { $0 != ":" }), $0.value) }, uniquingKeysWith: +)
            }

            // Line: read-your-writes on the third projection.
            let line = try client.call("ordersPerStatusAndDay", ["minPosition": position]) as? [String: Any]
            let lineCounts = line?["counts"] as? [String: Int]
            #expect(byStatus(lineCounts) == ["pending": 3, "confirmed": 1])

            // HTTP: the same counts, at the same position.
            let http = try HTTPConnection(port: server.httpPort)
            let answer = try http.request("GET", "/api/v1/orders/status-day", headers: [("Orders-Min-Position", position)])
            #expect(answer.status == 200)
            let data = try JSON.parse(bytes: answer.body)["data"]
            #expect(data == .object((lineCounts ?? [:]).mapValues { JSON($0) }))

            // Counted under its own name, on each protocol.
            let metrics = String(decoding: try http.request("GET", "/metrics").body, as: UTF8.self)
            for wire in ["line", "http"] {
                #expect(metrics.contains(#"protocol="\#(wire)",operation="ordersPerStatusAndDay",outcome="ok""#), "\(wire)")
            }
        } catch {
            await server.stop()
            throw error
        }
        await server.stop()
    }
}

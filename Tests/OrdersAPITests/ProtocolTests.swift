import Foundation
import OrdersDomain
import OrdersEventLog
import OrdersWriteSide
import OrdersReadSide
import OrdersAPI
import RedisClient
import Testing
import TestSupport

@Suite(.enabled(if: TestRedis.shouldRun))
struct ProtocolTests {
    @Test func everyOperationEndToEnd() async throws {
        let server = try await TestServer()
        defer { Task { await server.stop() } }
        let results = try await onThreads(1) { _ -> [String] in
            var checked: [String] = []
            let client = try server.client()
            let created = try client.call("createOrder", createRequest) as! [String: Any]
            let orderId = created["orderId"] as! String
            let position = created["position"] as! String
            #expect(created["version"] as? Int == 1)
            let order = try client.call("getOrder", ["orderId": orderId, "minPosition": position]) as! [String: Any]
            #expect(order["total"] as? String == "24.48" && order["itemCount"] as? Int == 3 && order["status"] as? String == "pending")
            checked.append("getOrder")

            let updated = try client.call("updateStatus", ["orderId": orderId, "status": "confirmed", "expectedVersion": 1]) as! [String: Any]
            #expect(updated["version"] as? Int == 2)
            let other = try client.call("createOrder", ["customerName": "Bob", "customerEmail": "bob@example.com",
                                                        "items": [["sku": "LAMP", "name": "Desk lamp", "quantity": 1, "unitPrice": "35"]]]) as! [String: Any]
            let cancelled = try client.call("cancelOrder", ["orderId": other["orderId"]!, "reason": "changed mind"]) as! [String: Any]
            let fresh = cancelled["position"] as! String

            let list = try client.call("listOrders", ["minPosition": fresh]) as! [String: Any]
            #expect((list["orders"] as! [[String: Any]]).map { $0["orderId"] as! String } == [other["orderId"] as! String, orderId])
            let byStatus = try client.call("ordersByStatus", ["status": "confirmed", "minPosition": fresh]) as! [String: Any]
            #expect((byStatus["orders"] as! [[String: Any]]).count == 1)
            let byCustomer = try client.call("ordersByCustomer", ["customerEmail": "BOB@example.com", "minPosition": fresh]) as! [String: Any]
            #expect((byCustomer["orders"] as! [[String: Any]]).first?["cancelReason"] as? String == "changed mind")
            let ranged = try client.call("listOrders", ["minTotal": "30", "maxTotal": 40, "minPosition": fresh]) as! [String: Any]
            #expect((ranged["orders"] as! [[String: Any]]).map { $0["orderId"] as! String } == [other["orderId"] as! String])
            let found = try client.call("search", ["q": "blue ANN", "minPosition": fresh]) as! [String: Any]
            #expect((found["orders"] as! [[String: Any]]).map { $0["orderId"] as! String } == [orderId])
            let summary = try client.call("summary", ["minPosition": fresh]) as! [String: Any]
            #expect(summary["totalOrders"] as? Int == 2 && summary["revenue"] as? String == "24.48")
            #expect((summary["ordersByStatus"] as! [String: Any])["cancelled"] as? Int == 1)
            let top = try client.call("topCustomers", ["by": "count", "minPosition": fresh]) as! [String: Any]
            #expect((top["customers"] as! [[String: Any]]).count == 2)
            let history = try client.call("orderHistory", ["orderId": orderId]) as! [String: Any]
            #expect((history["events"] as! [[String: Any]]).map { $0["type"] as! String } == ["OrderCreated", "OrderStatusChanged"])
            let asOf = try client.call("orderAsOf", ["orderId": orderId, "at": Timestamp.now().description]) as! [String: Any]
            #expect(asOf["status"] as? String == "confirmed")
            let status = try client.call("projectionStatus") as! [String: Any]
            #expect((status["projections"] as! [[String: Any]]).count == 2)
            let health = try client.call("health") as! [String: Any]
            #expect(health["status"] as? String == "ok")
            #expect((try client.call("deadLetters") as! [String: Any])["deadLetters"] as? [Any] != nil)

            let deleted = try client.call("deleteOrder", ["orderId": orderId]) as! [String: Any]
            do {
                _ = try client.call("getOrder", ["orderId": orderId, "minPosition": deleted["position"]!])
                Issue.record("a deleted order was found")
            } catch let failure as OrdersClient.Failure {
                #expect(failure.code == .notFound)
            }
            do {
                _ = try client.call("updateStatus", ["orderId": orderId, "status": "processing"])
                Issue.record("a deleted order accepted a command")
            } catch let failure as OrdersClient.Failure {
                #expect(failure.code == .notFound)
            }
            checked.append("all")
            return checked
        }
        #expect(results[0] == ["getOrder", "all"])
    }

    @Test func pipelinedRequestsOnOneConnectionAllGetTheirOwnAnswer() async throws {
        let server = try await TestServer()
        defer { Task { await server.stop() } }
        _ = try await onThreads(1) { _ in
            let client = try server.client()
            var sent: [Int: String] = [:]
            for index in 0..<200 {
                let op = index % 4 == 0 ? "health" : "createOrder"
                sent[try client.send(op, op == "health" ? [:] : createRequest)] = op
            }
            var received: [Int: [String: Any]] = [:]
            for _ in 0..<200 {
                let response = try client.receive()
                received[response["id"] as! Int] = response
            }
            #expect(Set(received.keys) == Set(sent.keys))
            for (id, op) in sent {
                let result = try OrdersClient.result(of: received[id]!) as! [String: Any]
                #expect(op == "health" ? result["status"] != nil : result["orderId"] != nil)
            }
        }
        #expect(try await server.logLength == 150)
    }

    @Test func twoHundredConcurrentConnections() async throws {
        let server = try await TestServer()
        defer { Task { await server.stop() } }
        let ids = try await onThreads(200) { index -> String in
            let client = try server.client()
            let created = try client.call("createOrder", createRequest) as! [String: Any]
            let orderId = created["orderId"] as! String
            let order = try client.call("getOrder", ["orderId": orderId, "minPosition": created["position"]!]) as! [String: Any]
            #expect(order["orderId"] as? String == orderId)
            return orderId
        }
        #expect(Set(ids).count == 200)
        #expect(try await server.logLength == 200)
    }

    @Test func aRequiredTokenIsChecked() async throws {
        let server = try await TestServer(token: "s3cret")
        defer { Task { await server.stop() } }
        _ = try await onThreads(1) { _ in
            do {
                _ = try server.client().call("health")
                Issue.record("a request without a token was served")
            } catch let failure as OrdersClient.Failure {
                #expect(failure.code == .unauthorized)
            }
            do {
                _ = try server.client(token: "wrong").call("createOrder", createRequest)
                Issue.record("a request with a wrong token was served")
            } catch let failure as OrdersClient.Failure {
                #expect(failure.code == .unauthorized)
            }
            #expect((try server.client(token: "s3cret").call("health") as? [String: Any])?["status"] as? String == "ok")
        }
        #expect(try await server.logLength == 0)
    }
}

import Foundation
import OrdersDomain
import OrdersAPI
import Testing
import TestSupport

/// The REST API over real HTTP, against a real server and Redis: the original design's routes and
/// shapes, HTTP's own tools for an event store (ETag / If-Match, Idempotency-Key, the log
/// position for read-your-writes), and the protocol's edges (keep-alive, pipelining, HEAD,
/// 100-continue, close, stalls).
@Suite(.enabled(if: TestRedis.shouldRun))
struct HTTPAPITests {
    static let order = #"{"customerName":"Ann Lee","customerEmail":"ann@example.com","items":[{"productId":"MUG-1","productName":"Blue mug","quantity":2,"price":"9.99"},{"productId":"TEA-7","productName":"Green tea","quantity":1,"price":4.5}]}"#

    @Test func theRESTRoutesEndToEnd() async throws {
        let server = try await TestServer()
        defer { Task { await server.stop() } }
        try await onThreads(1) { _ in
            let http = try server.httpClient()
            let created = try http.request("POST", "/api/v1/orders/order", body: Self.order)
            #expect(created.status == 201 && created.headers["etag"] == "\"1\"")
            guard let orderId = created.json?["orderId"]?.string, let position = created.headers["orders-log-position"] else {
                Issue.record("no order id or position: \(created.text)")
                return
            }
            #expect(created.headers["location"] == "/api/v1/orders/order/\(orderId)")
            #expect(created.json?["message"]?.string == "Order created successfully")

            let fetched = try http.request("GET", "/api/v1/orders/order/\(orderId)?minPosition=\(position)")
            #expect(fetched.status == 200 && fetched.headers["etag"] == "\"1\"")
            let order = fetched.data
            #expect(order?["totalAmount"]?.string == "24.48" && order?["status"]?.string == "pending")
            #expect(order?["items"]?[0]?["subtotal"]?.string == "19.98" && order?["items"]?[1]?["productId"]?.string == "TEA-7")
            #expect(order?["statusHistory"]?[0]?["status"]?.string == "pending" && order?["orderDate"]?.string != nil)

            // If-Match is the expected version: a stale one is refused with the current ETag.
            let confirmed = try http.request("PUT", "/api/v1/orders/order/\(orderId)/status", body: #"{"status":"confirmed"}"#,
                                             headers: [("If-Match", "\"1\"")])
            #expect(confirmed.status == 200 && confirmed.headers["etag"] == "\"2\"")
            let stale = try http.request("PUT", "/api/v1/orders/order/\(orderId)/status", body: #"{"status":"processing"}"#,
                                         headers: [("If-Match", "\"1\"")])
            #expect(stale.status == 409 && stale.headers["etag"] == "\"2\"" && stale.json?["code"]?.string == "concurrency_conflict")
            let backwards = try http.request("PUT", "/api/v1/orders/order/\(orderId)/status", body: #"{"status":"pending"}"#)
            #expect(backwards.status == 409 && backwards.json?["code"]?.string == "invalid_transition")
            let unknownStatus = try http.request("PUT", "/api/v1/orders/order/\(orderId)/status", body: #"{"status":"lost"}"#)
            #expect(unknownStatus.status == 400 && unknownStatus.json?["code"]?.string == "validation_failed")

            // Idempotency-Key: the retry gets the first answer and writes nothing.
            let key = [("Idempotency-Key", UUID().uuidString.lowercased())]
            let first = try http.request("POST", "/api/v1/orders/order", body: Self.order, headers: key)
            let retry = try http.request("POST", "/api/v1/orders/order", body: Self.order, headers: key)
            #expect(first.status == 201 && retry.status == 201 && retry.headers["idempotent-replayed"] == "true")
            #expect(retry.json?["orderId"]?.string == first.json?["orderId"]?.string)
            #expect(retry.headers["orders-log-position"] == first.headers["orders-log-position"])

            let cancelled = try http.request("PUT", "/api/v1/orders/order/\(first.json!["orderId"]!.string!)/cancel",
                                             body: #"{"reason":"changed mind"}"#)
            #expect(cancelled.status == 200)
            let fresh = cancelled.headers["orders-log-position"]!

            let list = try http.request("GET", "/api/v1/orders?limit=1&offset=0&minPosition=\(fresh)")
            #expect(list.status == 200 && list.data?.array?.count == 1)
            let pagination = list.json?["pagination"]
            #expect(pagination?["total"]?.int == 2 && pagination?["hasMore"] == .bool(true) && pagination?["limit"]?.int == 1)
            let second = try http.request("GET", "/api/v1/orders?limit=1&offset=1&minPosition=\(fresh)")
            #expect(second.data?[0]?["orderId"]?.string == orderId && second.json?["pagination"]?["hasMore"] == .bool(false))
            let filtered = try http.request("GET", "/api/v1/orders?status=cancelled&minAmount=24&maxAmount=25&fromDate=2000-01-01&minPosition=\(fresh)")
            #expect(filtered.data?.array?.count == 1 && filtered.data?[0]?["cancelReason"]?.string == "changed mind")
            #expect(filtered.json?["pagination"]?["total"]?.int == 1)

            #expect(try http.request("GET", "/api/v1/orders/status/confirmed?minPosition=\(fresh)").data?[0]?["orderId"]?.string == orderId)
            #expect(try http.request("GET", "/api/v1/orders/customer/ANN@example.com?minPosition=\(fresh)").data?.array?.count == 2)
            #expect(try http.request("GET", "/api/v1/orders/search?q=blue+ann&minPosition=\(fresh)").data?.array?.count == 2)
            #expect(try http.request("GET", "/api/v1/orders/search").status == 400)

            let summary = try http.request("GET", "/api/v1/orders/summary?minPosition=\(fresh)").data
            #expect(summary?["totalOrders"]?.int == 2 && summary?["totalRevenue"]?.string == "24.48")
            #expect(summary?["ordersByStatus"]?["cancelled"]?.int == 1 && summary?["revenueByStatus"]?["cancelled"]?.string == "24.48")
            if case .object(let months)? = summary?["ordersByMonth"] {
                #expect(months.values.compactMap(\.int).reduce(0, +) == 2)
            } else {
                Issue.record("ordersByMonth is not an object")
            }
            #expect(summary?["topCustomers"]?[0]?["totalSpent"]?.string == "24.48" && summary?["lastUpdated"]?.string != nil)
            let top = try http.request("GET", "/api/v1/orders/top-customers?limit=1&minPosition=\(fresh)").data
            #expect(top?[0]?["customerEmail"]?.string == "ann@example.com" && top?[0]?["orderCount"]?.int == 2)

            let history = try http.request("GET", "/api/v1/orders/order/\(orderId)/history").data
            #expect(history?["events"]?.array?.count == 2)
            let then = try http.request("GET", "/api/v1/orders/order/\(orderId)/as-of?at=2999-01-01T00:00:00Z").data
            #expect(then?["status"]?.string == "confirmed" && then?["totalAmount"]?.string == "24.48")
            #expect(try http.request("GET", "/api/v1/projections").data?["projections"]?.array?.count == 2)
            #expect(try http.request("POST", "/api/v1/orders/order/\(orderId)/snapshot").data?["version"]?.int == 2)
            let health = try http.request("GET", "/api/v1/health")
            #expect(health.status == 200 && health.data?["redis"]?.string == "up")

            let deleted = try http.request("DELETE", "/api/v1/orders/order/\(orderId)")
            #expect(deleted.status == 200)
            let gone = try http.request("GET", "/api/v1/orders/order/\(orderId)?minPosition=\(deleted.headers["orders-log-position"]!)")
            #expect(gone.status == 404 && gone.json?["code"]?.string == "not_found")
            #expect(try http.request("PUT", "/api/v1/orders/order/\(UUID().uuidString.lowercased())/cancel").status == 404)
        }
    }

    @Test func routesMethodsAndBodiesThatDoNotFitGetTheirStatus() async throws {
        let server = try await TestServer()
        defer { Task { await server.stop() } }
        try await onThreads(1) { _ in
            let http = try server.httpClient()
            #expect(try http.request("GET", "/nowhere").status == 404)
            let wrongMethod = try http.request("PATCH", "/api/v1/orders/order/x")
            #expect(wrongMethod.status == 405 && wrongMethod.headers["allow"] == "DELETE, GET, HEAD")
            #expect(try http.request("POST", "/api/v1/orders/order", body: "{not json").json?["code"]?.string == "invalid_json")
            #expect(try http.request("POST", "/api/v1/orders/order", body: "[1]").status == 400)
            let xml = try http.request("POST", "/api/v1/orders/order", body: Self.order, headers: [("Content-Type", "text/xml")])
            #expect(xml.status == 415)
            #expect(try http.request("POST", "/api/v1/orders/order", body: #"{"customerName":"A","customerEmail":"a@example.com","items":[]}"#).status == 400)
            #expect(try http.request("GET", "/api/v1/orders?limit=0").status == 400)
            #expect(try http.request("GET", "/api/v1/orders?minPosition=later").status == 400)
            #expect(try http.request("GET", "/api/v1/orders/%ZZ").status == 400)
            let head = try http.request("HEAD", "/health/live")
            #expect(head.status == 200 && head.body.isEmpty && head.headers["content-length"] == "15")
            #expect(try http.request("GET", "/health/live").text == #"{"status":"up"}"#, "the connection is still in step after HEAD")
        }
        #expect(try await server.logLength == 0, "nothing was written")
    }

    @Test func pipelinedRequestsAreAnsweredInOrderAndCloseIsHonoured() async throws {
        let server = try await TestServer()
        defer { Task { await server.stop() } }
        try await onThreads(1) { _ in
            let http = try server.httpClient()
            // Three requests in one write: a slow one (it writes) between two fast ones.
            try http.send("GET /health/live HTTP/1.1\r\nHost: t\r\n\r\n"
                + "POST /api/v1/orders/order HTTP/1.1\r\nHost: t\r\nContent-Length: \(Self.order.utf8.count)\r\n\r\n\(Self.order)"
                + "GET /nowhere HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
            #expect(try http.readResponse().status == 200)
            #expect(try http.readResponse().status == 201)
            let last = try http.readResponse()
            #expect(last.status == 404 && last.headers["connection"] == "close")
            #expect(http.serverCloses())

            // curl's Expect: 100-continue: the body follows the interim answer.
            let curlLike = try server.httpClient()
            try curlLike.send("POST /api/v1/orders/order HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: \(Self.order.utf8.count)\r\n\r\n")
            #expect(try curlLike.readResponse().status == 100)
            try curlLike.send(Self.order)
            #expect(try curlLike.readResponse().status == 201)

            // HTTP/1.0 closes after its answer unless it asks to stay, and is told when it stays.
            let old = try server.httpClient()
            try old.send("GET /health/live HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n")
            #expect(try old.readResponse().headers["connection"] == "keep-alive")
            try old.send("GET /health/live HTTP/1.0\r\n\r\n")
            let closing = try old.readResponse()
            #expect(closing.status == 200 && closing.headers["connection"] == "close")
            #expect(old.serverCloses())
        }
    }

    @Test func aStalledRequestGets408AndTheConnectionCloses() async throws {
        let server = try await TestServer(configuration: ServerConfiguration(host: "127.0.0.1", port: 0, lineTimeout: .milliseconds(300)))
        defer { Task { await server.stop() } }
        try await onThreads(1) { _ in
            let http = try server.httpClient()
            try http.send("POST /api/v1/orders/order HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\n{\"cust")
            let answer = try http.readResponse()
            #expect(answer.status == 408 && answer.headers["connection"] == "close")
            #expect(http.serverCloses())
        }
        #expect(try await server.logLength == 0)
    }

    @Test func metricsCountRequestsCommandsAndProjectionsAndPassPromtool() async throws {
        let server = try await TestServer()
        defer { Task { await server.stop() } }
        let scrapes = try await onThreads(1) { _ -> String in
            let http = try server.httpClient()
            let created = try http.request("POST", "/api/v1/orders/order", body: Self.order, headers: [("Idempotency-Key", "metrics-1")])
            _ = try http.request("POST", "/api/v1/orders/order", body: Self.order, headers: [("Idempotency-Key", "metrics-1")])
            let orderId = created.json?["orderId"]?.string ?? ""
            _ = try http.request("PUT", "/api/v1/orders/order/\(orderId)/status", body: #"{"status":"confirmed"}"#, headers: [("If-Match", "\"7\"")])
            _ = try server.client().call("getOrder", ["orderId": orderId, "minPosition": created.headers["orders-log-position"] ?? ""])
            let scraped = try http.request("GET", "/metrics")
            #expect(scraped.status == 200 && scraped.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8")
            return scraped.text
        }
        let text = scrapes.first ?? ""
        let lines = Set(text.split(separator: "\n").map(String.init))
        for sample in [
            #"orders_commands_total{outcome="appended"} 1"#, #"orders_commands_total{outcome="duplicate"} 1"#,
            #"orders_commands_total{outcome="concurrency_conflict"} 1"#, "orders_events_appended_total 1",
            "orders_concurrency_conflicts_total 1", "orders_idempotent_duplicates_total 1",
            #"orders_request_duration_seconds_count{protocol="http",operation="createOrder",outcome="ok"} 2"#,
            #"orders_request_duration_seconds_count{protocol="http",operation="updateStatus",outcome="concurrency_conflict"} 1"#,
            #"orders_request_duration_seconds_count{protocol="line",operation="getOrder",outcome="ok"} 1"#,
            #"orders_open_connections{server="http"} 1"#, "orders_redis_up 1",
            #"orders_projection_generation{projection="order"} 1"#, #"orders_projection_dead_letters{projection="summary"} 0"#,
        ] {
            #expect(lines.contains(sample), "missing: \(sample)")
        }
        #expect(text.contains(#"orders_projection_lag_events{projection="order"} "#))
        let check = try Self.promtool(text)
        #expect(check.status == 0, "promtool: \(check.output)")
    }

    @Test func aTokenGuardsTheAPIAndThePublicProbesWhenAskedTo() async throws {
        let guarded = try await TestServer(token: "s3cret")
        let open = try await TestServer(token: "s3cret", publicMetrics: true)
        defer { Task { await guarded.stop(); await open.stop() } }
        try await onThreads(1) { _ in
            let http = try guarded.httpClient()
            let refused = try http.request("GET", "/api/v1/orders")
            #expect(refused.status == 401 && refused.headers["www-authenticate"] == "Bearer")
            #expect(try http.request("GET", "/api/v1/orders", headers: [("Authorization", "Bearer wrong")]).status == 401)
            #expect(try http.request("GET", "/api/v1/orders", headers: [("Authorization", "Bearer s3cret")]).status == 200)
            #expect(try http.request("GET", "/health/live").status == 401)
            let document = try http.request("GET", "/openapi.json")
            #expect(document.status == 200 && document.body == OpenAPIDocument.bytes, "the document needs no token")
            let probes = try open.httpClient()
            #expect(try probes.request("GET", "/health/live").status == 200)
            let ready = try probes.request("GET", "/health/ready")
            #expect(ready.status == 200, "\(String(decoding: ready.body, as: UTF8.self))")
            #expect(try probes.request("GET", "/metrics").status == 200)
            #expect(try http.request("GET", "/metrics").status == 401)
            #expect(try probes.request("GET", "/api/v1/orders").status == 401)
        }
    }
}

extension HTTPAPITests {
    /// `promtool check metrics` (Debian's prometheus package, installed by Scripts/bootstrap) on
    /// `text`: its exit status and what it printed.
    static func promtool(_ text: String) throws -> (status: Int32, output: String) {
        let ran = try ChildProcess.output(["/usr/bin/promtool", "check", "metrics"], input: text)
        return (ran.status, ran.stdout + ran.stderr)
    }
}

extension JSON {
    /// The element at `index` of an array.
    subscript(index: Int) -> JSON? {
        guard let array, array.indices.contains(index) else { return nil }
        return array[index]
    }
}

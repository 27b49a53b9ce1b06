import Foundation
import OrdersDomain
import OrdersAPI
import Testing
import TestSupport

/// Parameters take exactly what the OpenAPI document says, so a generic client that fills them
/// from the document gets an answer, and one that breaks them gets a 4xx: no waiting on a position
/// the log never reached, no long-poll past its bound, no value the document refuses accepted.
@Suite(.enabled(if: TestRedis.shouldRun))
struct HTTPParameterContractTests {
    @Test func aPositionPastTheLogIsTheClientsMistake() async throws {
        let server = try await TestServer()
        defer { Task { await server.stop() } }
        try await onThreads(1) { _ in
            let http = try server.httpClient()
            let created = try http.request("POST", "/api/v1/orders/order", body: HTTPAPITests.order)
            let orderId = try #require(created.json?["orderId"]?.string)
            for path in ["/api/v1/orders/order/\(orderId)", "/api/v1/orders", "/api/v1/orders/summary", "/api/v1/orders/top-customers",
                         "/api/v1/orders/search?q=mug", "/api/v1/orders/status/pending", "/api/v1/orders/customer/ann@example.com"] {
                let separator = path.contains("?") ? "&" : "?"
                let answer = try http.request("GET", path + separator + "minPosition=9999999999999-0")
                #expect(answer.status == 409 && answer.json?["code"]?.string == "unknown_position", "\(path)")
                let byHeader = try http.request("GET", path, headers: [("Orders-Min-Position", "9999999999999-0")])
                #expect(byHeader.status == 409, "\(path)")
            }
            // 20 digits are past what the document's pattern allows.
            #expect(try http.request("GET", "/api/v1/orders?minPosition=10000000000000000000-0").status == 400)
            let line = try server.client()
            let failure = #expect(throws: OrdersClient.Failure.self) { try line.call("summary", ["minPosition": "9999999999999-0"]) }
            #expect(failure?.code == .unknownPosition)
        }
    }

    @Test func unknownParametersAndReusedKeysAreRefused() async throws {
        let server = try await TestServer()
        defer { Task { await server.stop() } }
        try await onThreads(1) { _ in
            let http = try server.httpClient()
            let first = try #require(http.request("POST", "/api/v1/orders/order", body: HTTPAPITests.order).json?["orderId"]?.string)
            let second = try #require(http.request("POST", "/api/v1/orders/order", body: HTTPAPITests.order).json?["orderId"]?.string)
            let unknown = try http.request("GET", "/api/v1/orders/summary?sumary=1")
            #expect(unknown.status == 400 && unknown.text.contains("sumary"))
            #expect(try http.request("GET", "/api/v1/orders/order/\(first)?minPosition=1-0",
                                     headers: [("Orders-Min-Position", "0-")]).status == 400, "each position given is checked")
            // A key is one command's: used again on another order it is refused, not answered
            // with the first order's result.
            let key = [("Idempotency-Key", "key-\(first.prefix(8))")]
            #expect(try http.request("PUT", "/api/v1/orders/order/\(first)/status", body: #"{"status":"confirmed"}"#, headers: key).status == 200)
            let reused = try http.request("PUT", "/api/v1/orders/order/\(second)/cancel", body: "{}", headers: key)
            #expect(reused.status == 409 && reused.json?["code"]?.string == "command_id_reused")
            let retried = try http.request("PUT", "/api/v1/orders/order/\(first)/status", body: #"{"status":"confirmed"}"#, headers: key)
            #expect(retried.status == 200 && retried.headers["idempotent-replayed"] == "true")
            // A request invalid in itself is refused, even under a key that ran before.
            let createKey = [("Idempotency-Key", "create-\(first.prefix(8))")]
            #expect(try http.request("POST", "/api/v1/orders/order", body: HTTPAPITests.order, headers: createKey).status == 201)
            let invalid = HTTPAPITests.order.replacingOccurrences(of: #""price":"9.99""#, with: #""price":-1"#)
            #expect(try http.request("POST", "/api/v1/orders/order", body: invalid, headers: createKey).status == 400)
            // Milliseconds alone name their first position.
            #expect(try http.request("GET", "/api/v1/orders/summary", headers: [("Orders-Min-Position", "0")]).status == 200)
            // An order that does not exist is not found, whatever version If-Match names.
            let missing = try http.request("PUT", "/api/v1/orders/order/no-such-order/status", body: #"{"status":"confirmed"}"#,
                                           headers: [("If-Match", "\"5\"")])
            #expect(missing.status == 404)
            // A stale If-Match is a conflict, with the current ETag.
            let stale = try http.request("DELETE", "/api/v1/orders/order/\(second)", headers: [("If-Match", "\"7\"")])
            #expect(stale.status == 409 && stale.json?["code"]?.string == "concurrency_conflict" && stale.headers["etag"] == "\"1\"")
        }
    }

    @Test func replayStatusTakesKnownPhasesAndABoundedWait() async throws {
        let server = try await TestServer()
        defer { Task { await server.stop() } }
        try await onThreads(1) { _ in
            let http = try server.httpClient()
            for query in ["untilPhase=", "untilPhase=done,,failed", "untilPhase=nope", "waitMs=2001&untilPhase=done", "waitMs=-1"] {
                let answer = try http.request("GET", "/api/v1/replay?" + query)
                #expect(answer.status == 400 && answer.json?["code"]?.string == "invalid_request", "\(query)")
            }
            #expect(try http.request("GET", "/api/v1/replay?waitMs=2000").status == 200, "without phases it answers at once")
            #expect(try http.request("GET", "/api/v1/replay?waitMs=0&untilPhase=done,failed").status == 200)
        }
    }

    @Test func ifMatchAndTimesFollowTheirPatterns() async throws {
        let server = try await TestServer()
        defer { Task { await server.stop() } }
        try await onThreads(1) { _ in
            let http = try server.httpClient()
            let created = try http.request("POST", "/api/v1/orders/order", body: HTTPAPITests.order)
            let orderId = try #require(created.json?["orderId"]?.string)
            for tag in ["W/1", "+1", "\"-1\"", "1 2", "1234567890123456789", "\""] {
                let answer = try http.request("PUT", "/api/v1/orders/order/\(orderId)/status", body: #"{"status":"confirmed"}"#,
                                              headers: [("If-Match", tag)])
                #expect(answer.status == 400, "If-Match \(tag)")
            }
            let weak = try http.request("PUT", "/api/v1/orders/order/\(orderId)/status", body: #"{"status":"confirmed"}"#,
                                        headers: [("If-Match", "W/\"1\"")])
            #expect(weak.status == 200 && weak.headers["etag"] == "\"2\"")
            for at in ["1700000000000", "-5", "2026-11-23T10:00Z", "yesterday"] {
                #expect(try http.request("GET", "/api/v1/orders/order/\(orderId)/as-of?at=\(at)").status == 400, "at=\(at)")
            }
            #expect(try http.request("GET", "/api/v1/orders/order/\(orderId)/as-of?at=2999-01-01").status == 200)
            #expect(try http.request("GET", "/api/v1/orders/order/\(orderId)/as-of?at=2000-01-01T00:00:00%2B01:00").status == 404,
                    "before it existed")
            #expect(try http.request("GET", "/api/v1/orders?fromDate=1700000000000").status == 400)
        }
    }
}

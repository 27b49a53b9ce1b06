import Foundation
import OrdersDomain
import OrdersEventLog
import OrdersWriteSide
import OrdersReadSide
import OrdersAPI
import Testing
import TestSupport

@Suite(.enabled(if: TestRedis.shouldRun))
struct MalformedInputTests {
    /// Each line, and the error code it must get. All are sent on one connection, which must keep
    /// working, and none may write an event.
    static var cases: [(String, [UInt8], String)] {
        func json(_ text: String) -> [UInt8] { Array(text.utf8) }
        let item = #"{"sku":"S","name":"N","quantity":1,"unitPrice":"1.00"}"#
        let tenThousandItems = "[" + Array(repeating: item, count: 10_000).joined(separator: ",") + "]"
        var random = SystemRandomNumberGenerator()
        let noise = (0..<300).map { _ in UInt8.random(in: 0...255, using: &random) }.filter { $0 != 0x0a }
        return [
            ("random bytes", noise, "invalid_json"),
            ("truncated JSON", json(#"{"id":1,"op":"createOrder","customerName":"A"#), "invalid_json"),
            ("invalid UTF-8", [0x7b, 0x22, 0x69, 0x64, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d], "invalid_json"),
            ("a JSON array", json("[1,2,3]"), "invalid_request"),
            ("a bare string", json(#""createOrder""#), "invalid_request"),
            ("no op", json(#"{"id":1}"#), "invalid_request"),
            ("unknown op", json(#"{"id":1,"op":"dropEverything"}"#), "invalid_request"),
            ("op of the wrong type", json(#"{"id":1,"op":7}"#), "invalid_request"),
            ("items not an array", json(#"{"id":1,"op":"createOrder","customerName":"A","customerEmail":"a@b.io","items":"x"}"#), "invalid_request"),
            ("quantity as a string", json(#"{"id":1,"op":"createOrder","customerName":"A","customerEmail":"a@b.io","items":[{"sku":"S","name":"N","quantity":"1","unitPrice":"1"}]}"#), "invalid_request"),
            ("quantity a boolean", json(#"{"id":1,"op":"createOrder","customerName":"A","customerEmail":"a@b.io","items":[{"sku":"S","name":"N","quantity":true,"unitPrice":"1"}]}"#), "invalid_request"),
            ("huge quantity", json(#"{"id":1,"op":"createOrder","customerName":"A","customerEmail":"a@b.io","items":[{"sku":"S","name":"N","quantity":1e300,"unitPrice":"1"}]}"#), "invalid_request"),
            ("huge integer", json(#"{"id":1,"op":"createOrder","customerName":"A","customerEmail":"a@b.io","items":[{"sku":"S","name":"N","quantity":123456789012345678901234567890,"unitPrice":"1"}]}"#), "invalid_request"),
            ("price with 3 decimals", json(#"{"id":1,"op":"createOrder","customerName":"A","customerEmail":"a@b.io","items":[{"sku":"S","name":"N","quantity":1,"unitPrice":1.005}]}"#), "validation_failed"),
            ("huge price", json(#"{"id":1,"op":"createOrder","customerName":"A","customerEmail":"a@b.io","items":[{"sku":"S","name":"N","quantity":1,"unitPrice":1e30}]}"#), "validation_failed"),
            ("negative price", json(#"{"id":1,"op":"createOrder","customerName":"A","customerEmail":"a@b.io","items":[{"sku":"S","name":"N","quantity":1,"unitPrice":"-1.00"}]}"#), "validation_failed"),
            ("10,000 items", json(#"{"id":1,"op":"createOrder","customerName":"A","customerEmail":"a@b.io","items":"# + tenThousandItems + "}"), "validation_failed"),
            ("NUL in a name", json(#"{"id":1,"op":"createOrder","customerName":"A\u0000B","customerEmail":"a@b.io","items":["# + item + "]}"), "validation_failed"),
            ("bad email", json(#"{"id":1,"op":"createOrder","customerName":"A","customerEmail":"not-an-email","items":["# + item + "]}"), "validation_failed"),
            ("unknown status", json(#"{"id":1,"op":"updateStatus","orderId":"x","status":"teleported"}"#), "validation_failed"),
            ("order id with key syntax", json(#"{"id":1,"op":"updateStatus","orderId":"x:{0}:log","status":"confirmed"}"#), "not_found"),
            ("missing order", json(#"{"id":1,"op":"cancelOrder","orderId":"no-such-order"}"#), "not_found"),
            ("bad expectedVersion", json(#"{"id":1,"op":"deleteOrder","orderId":"x","expectedVersion":"two"}"#), "invalid_request"),
            ("bad commandId", json(#"{"id":1,"op":"deleteOrder","orderId":"x","commandId":"has spaces"}"#), "validation_failed"),
            ("bad time", json(#"{"id":1,"op":"orderAsOf","orderId":"x","at":"yesterday"}"#), "invalid_request"),
            ("a time before 1970", json(#"{"id":1,"op":"orderAsOf","orderId":"x","at":"1969-12-31T23:59:59Z"}"#), "not_found"),
            ("epoch milliseconds (the command line converts them)", json(#"{"id":1,"op":"orderAsOf","orderId":"x","at":"-5"}"#), "invalid_request"),
            ("year zero", json(#"{"id":1,"op":"orderAsOf","orderId":"x","at":"0000-01-01T00:00:00Z"}"#), "not_found"),
            ("bad minPosition", json(#"{"id":1,"op":"getOrder","orderId":"x","minPosition":"soon"}"#), "invalid_request"),
            ("limit too large", json(#"{"id":1,"op":"listOrders","limit":100000}"#), "invalid_request"),
            ("bad cursor", json(#"{"id":1,"op":"listOrders","cursor":"abc"}"#), "invalid_request"),
            ("empty search", json(#"{"id":1,"op":"search","q":""}"#), "invalid_request"),
            ("two replays in one", json(#"{"id":1,"op":"replay","projection":"all","from":"2026-01-01T00:00:00Z"}"#), "invalid_request"),
            ("a replay of null", json(#"{"id":1,"op":"replay","orderId":null}"#), "invalid_request"),
            ("a field no request takes", json(#"{"id":1,"op":"replay","projekt":"all"}"#), "invalid_request"),
            ("replay of a missing order", json(#"{"id":1,"op":"replay","orderId":"no-such-order"}"#), "not_found"),
            ("replay of an unknown projection", json(#"{"id":1,"op":"replay","projection":"orders"}"#), "invalid_request"),
            // Strict where it was lenient (issue 12, defect 13).
            ("a trailing comma", json(#"{"id":"x","op":"health",}"#), "invalid_json"),
            ("a duplicate key", json(#"{"id":1,"op":"health","op":"summary"}"#), "invalid_json"),
            ("a leading zero", json(#"{"id":01,"op":"health"}"#), "invalid_json"),
            ("a lone surrogate", json(#"{"id":1,"op":"search","q":"\ud800"}"#), "invalid_json"),
            ("NUL in an email", json(#"{"id":1,"op":"createOrder","customerName":"A","customerEmail":"a@b.co\u0000","items":["# + item + "]}"), "validation_failed"),
            ("ESC in an email", json(#"{"id":1,"op":"createOrder","customerName":"A","customerEmail":"a\u001b@b.co","items":["# + item + "]}"), "validation_failed"),
            ("DEL in an email", json(#"{"id":1,"op":"createOrder","customerName":"A","customerEmail":"a@b.co\u007f","items":["# + item + "]}"), "validation_failed"),
            ("a fractional quantity", json(#"{"id":1,"op":"createOrder","customerName":"A","customerEmail":"a@b.io","items":[{"sku":"S","name":"N","quantity":2.5,"unitPrice":"1"}]}"#), "invalid_request"),
            ("a fractional expectedVersion", json(#"{"id":1,"op":"deleteOrder","orderId":"x","expectedVersion":1.5}"#), "invalid_request"),
            ("a fractional limit", json(#"{"id":1,"op":"listOrders","limit":1.5e0}"#), "invalid_request"),
        ]
    }

    @Test func eachBadRequestGetsItsDocumentedErrorAndTheConnectionKeepsWorking() async throws {
        let server = try await TestServer()
        defer { Task { await server.stop() } }
        let cases = Self.cases.map { ($0.0, $0.1, $0.2) }
        let outcomes = try await onThreads(1) { _ -> [String] in
            let client = try server.client()
            var wrong: [String] = []
            for (label, line, code) in cases {
                try client.sendRaw(line + [0x0a])
                let response = try client.receive()
                let error = response["error"] as? [String: Any]
                if response["ok"] as? Bool != false || error?["code"] as? String != code {
                    wrong.append("\(label): expected \(code), got \(response)")
                } else if (error?["message"] as? String ?? "").isEmpty {
                    wrong.append("\(label): no message")
                }
            }
            let health = try client.call("health") as? [String: Any]
            if health?["status"] as? String != "ok" { wrong.append("the connection stopped working") }
            return wrong
        }
        #expect(outcomes[0].isEmpty, "\(outcomes[0].joined(separator: "\n"))")
        #expect(try await server.logLength == 0, "no bad request wrote an event")
    }

    @Test func theResponseEchoesAnyJSONId() async throws {
        let server = try await TestServer()
        defer { Task { await server.stop() } }
        _ = try await onThreads(1) { _ in
            let client = try server.client()
            // Byte for byte, as written: big and whole-looking numbers, escapes and spacing too.
            for id in [#""abc""#, "{\"nested\":[1,2]}", "null", "3.5", "123456789012345678901234567890", "1.0", "1E2", "-0",
                       #""\u0041""#, "[ 1 , 2 ]"] {
                try client.sendRaw(Array(#"{"op":"health","id":\#(id)}"#.utf8) + [0x0a])
                let line = String(decoding: try client.receiveLine() ?? [], as: UTF8.self)
                #expect(line.hasPrefix(#"{"id":\#(id),"ok":true"#), "\(line)")
            }
            try client.sendRaw(Array(#"{"op":"nope","id":123456789012345678901234567890}"#.utf8) + [0x0a])
            let error = String(decoding: try client.receiveLine() ?? [], as: UTF8.self)
            #expect(error.contains(#""id":123456789012345678901234567890,"#), "\(error)")
        }
    }

    @Test func anOverlongLineGetsTooLargeAndOnlyThatConnectionIsClosed() async throws {
        let server = try await TestServer()
        defer { Task { await server.stop() } }
        _ = try await onThreads(1) { _ in
            let bystander = try server.client()
            let client = try server.client()
            var line = Array(#"{"id":1,"op":"createOrder","customerName":""#.utf8)
            line += Array(repeating: UInt8(ascii: "x"), count: 2 << 20)
            line += Array(#"","customerEmail":"a@b.io","items":[]}"#.utf8) + [0x0a]
            try? client.sendRaw(line) // the server may close before taking all of it
            let response = try client.receive()
            #expect((response["error"] as? [String: Any])?["code"] as? String == "too_large")
            #expect(try client.receiveLine() == nil, "the connection was closed after the answer")
            #expect((try bystander.call("health") as? [String: Any])?["status"] as? String == "ok")
        }
        #expect(try await server.logLength == 0)
    }
}

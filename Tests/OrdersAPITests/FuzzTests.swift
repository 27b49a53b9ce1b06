import Foundation
import Orders
import OrdersAPI
import Testing
import TestSupport

@Suite(.enabled(if: TestRedis.shouldRun))
struct FuzzTests {
    static let documentedCodes: Set<String> = Set(APIError.Code.allCases.map(\.rawValue))

    /// Valid requests of every command, to be mutated.
    static let seeds: [String] = [
        #"{"id":1,"op":"createOrder","customerName":"Ann Lee","customerEmail":"ann@example.com","items":[{"sku":"MUG-1","name":"Blue mug","quantity":2,"unitPrice":"9.99"}]}"#,
        #"{"id":2,"op":"updateStatus","orderId":"ORDER","status":"confirmed","expectedVersion":1}"#,
        #"{"id":3,"op":"cancelOrder","orderId":"ORDER","reason":"no"}"#,
        #"{"id":4,"op":"deleteOrder","orderId":"ORDER","commandId":"c-1"}"#,
        #"{"id":5,"op":"listOrders","status":"pending","limit":5,"minTotal":"1.00"}"#,
        #"{"id":6,"op":"search","q":"mug ann"}"#,
        #"{"id":7,"op":"orderAsOf","orderId":"ORDER","at":"2026-11-22T10:00:00Z"}"#,
    ]

    /// 5,000 mutated and random lines on 4 connections: every line gets one response with a
    /// documented code, the server keeps serving, and the log holds exactly the events of the
    /// commands it acknowledged.
    @Test func mutatedAndRandomRequestsGetDocumentedAnswersAndWriteOnlyWhatWasAcknowledged() async throws {
        let server = try await TestServer()
        defer { Task { await server.stop() } }
        let orderId = try await onThreads(1) { _ in
            (try server.client().call("createOrder", createRequest) as! [String: Any])["orderId"] as! String
        }[0]

        let outcomes = try await onThreads(4) { worker -> (acknowledged: Int, problems: [String]) in
            var generator = SeededGenerator(seed: UInt64(worker) + 1)
            let client = try server.client()
            var acknowledged = 0
            var problems: [String] = []
            for _ in 0..<1250 {
                let line = Self.mutant(orderId: orderId, using: &generator)
                try client.sendRaw(line + [0x0a])
                guard let reply = try client.receiveLine() else { problems.append("connection closed"); break }
                guard let response = try? JSONSerialization.jsonObject(with: Data(reply)) as? [String: Any] else {
                    problems.append("unreadable response \(String(decoding: reply.prefix(80), as: UTF8.self))")
                    continue
                }
                if response["ok"] as? Bool == true {
                    if let result = response["result"] as? [String: Any], result["position"] != nil, result["duplicate"] == nil {
                        acknowledged += 1
                    }
                } else {
                    let code = (response["error"] as? [String: Any])?["code"] as? String ?? "none"
                    if !Self.documentedCodes.contains(code) || code == "internal" { problems.append("code \(code)") }
                }
            }
            if (try? client.call("health") as? [String: Any])?["status"] as? String != "ok" { problems.append("health failed") }
            return (acknowledged, problems)
        }

        #expect(outcomes.flatMap(\.problems).isEmpty, "\(outcomes.flatMap(\.problems).prefix(10))")
        let events = try await server.store.readLog(after: nil, limit: 100_000)
        // Each acknowledged command wrote exactly one event; the first event is the setup's order.
        #expect(events.count == 1 + outcomes.map(\.acknowledged).reduce(0, +))
    }

    /// A valid request with a few bytes flipped, cut, duplicated or inserted, or plain random bytes.
    static func mutant(orderId: String, using generator: inout SeededGenerator) -> [UInt8] {
        if Int.random(in: 0..<10, using: &generator) == 0 {
            return (0..<Int.random(in: 1...200, using: &generator)).map { _ in
                var byte = UInt8.random(in: 0...255, using: &generator)
                if byte == 0x0a { byte = 0x20 }
                return byte
            }
        }
        var bytes = Array(seeds.randomElement(using: &generator)!.replacingOccurrences(of: "ORDER", with: orderId).utf8)
        for _ in 0..<Int.random(in: 1...4, using: &generator) {
            let index = Int.random(in: 0..<bytes.count, using: &generator)
            switch Int.random(in: 0..<5, using: &generator) {
            case 0: bytes[index] = UInt8.random(in: 0x20...0x7e, using: &generator)
            case 1: bytes.removeSubrange(index..<min(bytes.count, index + Int.random(in: 1...20, using: &generator)))
            case 2: bytes.insert(contentsOf: bytes[index..<min(bytes.count, index + 10)], at: index)
            case 3: bytes.insert([0x22, 0x00, 0xff, 0x7b, 0x5b].randomElement(using: &generator)!, at: index)
            default: bytes = Array(bytes.prefix(index))
            }
            if bytes.isEmpty { bytes = [0x7b] }
        }
        return bytes.map { $0 == 0x0a ? 0x20 : $0 }
    }
}


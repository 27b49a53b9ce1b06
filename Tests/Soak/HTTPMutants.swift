import Foundation

/// Hostile HTTP messages for the fuzzer: valid REST requests with bytes flipped, cut or inserted
/// (in the head or the body), malformed request lines, header floods, huge and lying
/// Content-Lengths, chunked bodies, pipelined mixes, and plain binary garbage.
public enum HTTPMutants {
    static let order = #"{"customerName":"Ann Lee","customerEmail":"ann@example.com","items":[{"productId":"MUG-1","productName":"Blue mug","quantity":2,"price":"9.99"}]}"#

    /// Valid requests of the REST API, to be mutated ("ORDER" is replaced by a real order id).
    static let seeds: [String] = [
        request("POST", "/api/v1/orders/order", body: order),
        request("PUT", "/api/v1/orders/order/ORDER/status", body: #"{"status":"confirmed"}"#, headers: ["If-Match: \"1\""]),
        request("PUT", "/api/v1/orders/order/ORDER/cancel", body: #"{"reason":"no"}"#),
        request("DELETE", "/api/v1/orders/order/ORDER", headers: ["Idempotency-Key: k-1"]),
        request("GET", "/api/v1/orders/order/ORDER"),
        request("GET", "/api/v1/orders?status=pending&minAmount=1.00&limit=5&offset=2&fromDate=2026-01-01"),
        request("GET", "/api/v1/orders/search?q=mug+ann"),
        request("GET", "/api/v1/orders/summary"),
        request("GET", "/api/v1/orders/top-customers?limit=3"),
        request("GET", "/api/v1/orders/order/ORDER/as-of?at=2026-11-22T10:00:00Z"),
        request("HEAD", "/health/live"),
        request("GET", "/metrics"),
    ]

    static func request(_ method: String, _ path: String, body: String? = nil, headers: [String] = []) -> String {
        var text = "\(method) \(path) HTTP/1.1\r\nHost: soak\r\n"
        for header in headers { text += header + "\r\n" }
        if let body { text += "Content-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)" } else { text += "\r\n" }
        return text
    }

    /// One hostile message (possibly several pipelined requests), for a connection of its own.
    public static func mutant(orderId: String, using generator: inout SeededGenerator) -> [UInt8] {
        func seed() -> [UInt8] { Array(seeds.randomElement(using: &generator)!.replacingOccurrences(of: "ORDER", with: orderId).utf8) }
        switch Int.random(in: 0..<12, using: &generator) {
        case 0: // binary garbage
            return (0..<Int.random(in: 1...400, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
        case 1: // a malformed request line
            let lines = ["GET /api/v1/orders", "GET  /api/v1/orders HTTP/1.1", "GET /api/v1/orders HTTP/9.9", "/ HTTP/1.1",
                         "G\u{1}T / HTTP/1.1", "GET api/v1/orders HTTP/1.1", "GET /%zz HTTP/1.1", "\u{7f}\u{7f}\u{7f}",
                         "GET /api/v1/orders?q=%ff%fe HTTP/1.1", "POST /api/v1/orders/order HTTP/1.1 extra"]
            return Array((lines.randomElement(using: &generator)! + "\r\nHost: soak\r\n\r\n").utf8)
        case 2: // a header flood: many fields, or one huge one
            let many = Bool.random(using: &generator)
            var text = "GET /health/live HTTP/1.1\r\nHost: soak\r\n"
            text += many ? String(repeating: "X-Flood: 1\r\n", count: Int.random(in: 90...400, using: &generator))
                         : "X-Huge: " + String(repeating: "h", count: Int.random(in: 8_000...40_000, using: &generator)) + "\r\n"
            return Array((text + "\r\n").utf8)
        case 3: // a huge Content-Length
            let length = ["2000000", "99999999999", "18446744073709551616", "-1", "1e3", "0x10", " 12", "5, 6"].randomElement(using: &generator)!
            return Array("POST /api/v1/orders/order HTTP/1.1\r\nHost: soak\r\nContent-Length: \(length)\r\n\r\n\(order)".utf8)
        case 4: // a lying Content-Length: longer or shorter than the body
            let lie = order.utf8.count + Int.random(in: -40...40, using: &generator)
            return Array("POST /api/v1/orders/order HTTP/1.1\r\nHost: soak\r\nContent-Length: \(max(0, lie))\r\n\r\n\(order)".utf8)
        case 5: // chunked
            return Array("POST /api/v1/orders/order HTTP/1.1\r\nHost: soak\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{\"a\":\r\n0\r\n\r\n".utf8)
        case 6: // pipelined valid and mutated requests
            return (0..<Int.random(in: 2...5, using: &generator)).flatMap { _ in Bool.random(using: &generator) ? seed() : flip(seed(), &generator) }
        default:
            return flip(seed(), &generator)
        }
    }

    /// A few bytes flipped, cut, duplicated or inserted anywhere in the message.
    static func flip(_ message: [UInt8], _ generator: inout SeededGenerator) -> [UInt8] {
        var bytes = message
        for _ in 0..<Int.random(in: 1...3, using: &generator) {
            let index = Int.random(in: 0..<bytes.count, using: &generator)
            switch Int.random(in: 0..<4, using: &generator) {
            case 0: bytes[index] = UInt8.random(in: 0...255, using: &generator)
            case 1: bytes.removeSubrange(index..<min(bytes.count, index + Int.random(in: 1...10, using: &generator)))
            case 2: bytes.insert(contentsOf: bytes[index..<min(bytes.count, index + 8)], at: index)
            default: bytes.insert([0x0d, 0x0a, 0x3a, 0x20, 0x00, 0x22].randomElement(using: &generator)!, at: index)
            }
            if bytes.isEmpty { bytes = [0x47] }
        }
        return bytes
    }
}

import Foundation

/// Hostile request lines for the fuzzer: valid requests of every command with a few bytes
/// flipped, cut, duplicated or inserted, or plain random bytes. Never a newline inside.
public enum Mutants {
    /// Valid requests of every command, to be mutated.
    public static let seeds: [String] = [
        #"{"id":1,"op":"createOrder","customerName":"Ann Lee","customerEmail":"ann@example.com","items":[{"sku":"MUG-1","name":"Blue mug","quantity":2,"unitPrice":"9.99"}]}"#,
        #"{"id":2,"op":"updateStatus","orderId":"ORDER","status":"confirmed","expectedVersion":1}"#,
        #"{"id":3,"op":"cancelOrder","orderId":"ORDER","reason":"no"}"#,
        #"{"id":4,"op":"deleteOrder","orderId":"ORDER","commandId":"c-1"}"#,
        #"{"id":5,"op":"listOrders","status":"pending","limit":5,"minTotal":"1.00"}"#,
        #"{"id":6,"op":"search","q":"mug ann"}"#,
        #"{"id":7,"op":"orderAsOf","orderId":"ORDER","at":"2026-11-22T10:00:00Z"}"#,
    ]

    /// A valid request with a few bytes flipped, cut, duplicated or inserted, or plain random bytes.
    public static func mutant(orderId: String, using generator: inout SeededGenerator) -> [UInt8] {
        if Int.random(in: 0..<10, using: &generator) == 0 {
            return noBlank((0..<Int.random(in: 1...200, using: &generator)).map { _ in
                var byte = UInt8.random(in: 0...255, using: &generator)
                if byte == 0x0a { byte = 0x20 }
                return byte
            })
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
        return noBlank(bytes.map { $0 == 0x0a ? 0x20 : $0 })
    }

    /// The server ignores blank lines (no answer): a fuzzer that waits for one must not send them.
    static func noBlank(_ bytes: [UInt8]) -> [UInt8] {
        bytes.allSatisfy { [0x20, 0x09, 0x0d].contains($0) } ? [0x78] : bytes
    }
}

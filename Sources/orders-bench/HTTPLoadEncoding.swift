import OrdersDomain

/// The HTTP form of the load's requests (`orders-bench load --http`), and the reading of HTTP
/// answers: only what the create and get scenarios send (answers' bodies are skipped, not parsed).
enum HTTPLoadEncoding {
    /// The request for one of the scenario's operations, or nil for one HTTP load does not send.
    static func request(_ op: String, _ parameters: [String: JSON]) -> [UInt8]? {
        switch op {
        case "createOrder":
            var body = parameters
            body["items"] = .array((parameters["items"]?.array ?? []).map { item in
                ["productId": item["sku"] ?? .null, "productName": item["name"] ?? .null,
                 "quantity": item["quantity"] ?? .null, "price": item["unitPrice"] ?? .null]
            })
            let bytes = JSON.object(body).encoded
            return Array("POST /api/v1/orders/order HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\nContent-Length: \(bytes.count)\r\n\r\n".utf8) + bytes
        case "getOrder":
            guard let orderId = parameters["orderId"]?.string else { return nil }
            return Array("GET /api/v1/orders/order/\(orderId) HTTP/1.1\r\nHost: bench\r\n\r\n".utf8)
        default:
            return nil
        }
    }

    /// The status of the first complete answer in `input` and the bytes it takes, or nil while
    /// it is incomplete. Cheap on purpose (the driver shares the cores with what it measures):
    /// bytes only, and the length from this server's own `Content-Length: N` line.
    static func answer(in input: ArraySlice<UInt8>) -> (status: Int, length: Int)? {
        let lengthMark = Array("\r\nContent-Length: ".utf8)
        var index = input.startIndex
        var bodyLength = 0
        while index + 3 < input.endIndex {
            if input[index] == 13 {
                if input[index + 1] == 10 && input[index + 2] == 13 && input[index + 3] == 10 { break }
                if input[index...].starts(with: lengthMark) {
                    var digit = index + lengthMark.count
                    bodyLength = 0
                    while digit < input.endIndex, input[digit] >= 0x30, input[digit] <= 0x39 {
                        bodyLength = bodyLength * 10 + Int(input[digit] - 0x30)
                        digit += 1
                    }
                }
            }
            index += 1
        }
        guard index + 3 < input.endIndex else { return nil }
        let start = input.startIndex
        guard input.count > 12, input[start...].starts(with: "HTTP/1.1 ".utf8) else { return (0, input.count) }
        let status = Int(input[start + 9] - 0x30) * 100 + Int(input[start + 10] - 0x30) * 10 + Int(input[start + 11] - 0x30)
        let total = index + 4 - start + bodyLength
        return total <= input.count ? (status, total) : nil
    }
}

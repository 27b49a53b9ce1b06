import OrdersDomain
@testable import OrdersReadSide
import Testing

/// An order record reads back as the order it was written from, on the fast path (field by
/// field from the bytes) and on the JSON parser's path alike, whatever its texts hold.
struct OrderRecordTests {
    static let texts = ["Ann Lee", "Zoë Müller", "quote \" and \\ backslash", "comma, {brace} [bracket]", "東京", "tab\there",
                        "new\nline", "emoji 🎉", "a\"}],\"x\":{\"", "\u{1}control", "slash / \\u0041"]

    @Test func aRecordReadsBackAsItsOrderOnBothPaths() throws {
        var generator = SystemRandomNumberGenerator()
        for round in 0..<500 {
            func text() -> String { Self.texts.randomElement(using: &generator)! + (Bool.random(using: &generator) ? "\(round)" : "") }
            let items = (0..<Int.random(in: 1...4, using: &generator)).map { _ in
                OrderItem(sku: text(), name: text(), quantity: Int.random(in: 1...9, using: &generator),
                          unitPrice: Money(cents: Int64.random(in: 0...100_000_00, using: &generator)))
            }
            let created = Timestamp(milliseconds: Int64.random(in: 1_600_000_000_000...1_900_000_000_000, using: &generator))
            let history = (0..<Int.random(in: 1...6, using: &generator)).map { index in
                OrderView.StatusChange(status: OrderStatus.allCases.randomElement(using: &generator)!,
                                       at: Timestamp(milliseconds: created.milliseconds + Int64(index)))
            }
            let view = OrderView(orderId: "o-\(round)", customerName: text(), customerEmail: "c\(round)@example.com", items: items,
                                 status: history.last!.status, statusHistory: history,
                                 cancelReason: Bool.random(using: &generator) ? text() : nil,
                                 createdAt: created, updatedAt: history.last!.at, version: Int.random(in: 1...50, using: &generator))
            let doc = OrderProjection.encode(view)
            #expect(OrderProjection.decodeWritten(doc) == view, "round \(round): the fast path")
            #expect(try OrderProjection.decodeParsed(doc) == view, "round \(round): the parser's path")
        }
    }

    @Test func aRecordOfAnotherFormGoesThroughTheParser() throws {
        // Spaces between tokens: not what `encode` writes, still a valid record.
        let spaced = Array(#"{ "createdAt": "2026-11-23T10:00:00.000Z", "customerEmail": "a@example.com", "customerName": "A", "items": [ { "name": "N", "quantity": 1, "sku": "S", "unitPrice": "1.00" } ], "orderId": "o-1", "status": "pending", "statusHistory": [ { "at": "2026-11-23T10:00:00.000Z", "status": "pending" } ], "updatedAt": "2026-11-23T10:00:00.000Z", "version": 1 }"#.utf8)
        #expect(OrderProjection.decodeWritten(spaced) == nil)
        #expect(try OrderProjection.decode(spaced).customerName == "A")
        #expect(throws: (any Error).self) { try OrderProjection.decode(Array("{\"orderId\":1}".utf8)) }
    }
}

@testable import OrdersAPI
import OrdersDomain
@testable import OrdersReadSide
import Testing

/// getOrder over HTTP renames the stored record's keys and copies its values' bytes: the answer
/// must be byte for byte what encoding the decoded order gives, for any order.
struct RESTOrderJSONTests {
    static let texts = ["Ann Lee", "Zoë Müller", "quote \" and \\ backslash", "comma, {brace} [bracket]", "東京", "tab\there",
                        "emoji 🎉", "a\"}],\"x\":{\"", ""]

    @Test func theRecordsBytesRenamedAreTheDecodedOrderEncoded() throws {
        var generator = SystemRandomNumberGenerator()
        for round in 0..<500 {
            func text() -> String { Self.texts.randomElement(using: &generator)! + (Bool.random(using: &generator) ? "\(round)" : "") }
            let items = (0..<Int.random(in: 1...4, using: &generator)).map { _ in
                OrderItem(sku: text().isEmpty ? "S" : text(), name: text().isEmpty ? "N" : text(), quantity: Int.random(in: 1...9, using: &generator),
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
            let fast = RESTOrderJSON.one(record: OrderProjection.encode(view))
            #expect(fast?.body == RESTOrderJSON.one(view), "round \(round): \(String(decoding: fast?.body ?? [], as: UTF8.self))")
            #expect(fast?.version == view.version)
        }
    }

    @Test func aRecordInAnotherFormIsLeftToTheDecoder() {
        #expect(RESTOrderJSON.one(record: Array(#"{"orderId":"x"}"#.utf8)) == nil)
        #expect(RESTOrderJSON.one(record: Array("not json".utf8)) == nil)
        #expect(RESTOrderJSON.one(record: []) == nil)
    }
}

@testable import OrdersAPI
import OrdersDomain
@testable import OrdersReadSide
import Testing

/// The REST form of an order is written from its stored record by renaming keys and copying
/// values' bytes: read back, it must say exactly what the order holds, for any order.
struct RESTOrderJSONTests {
    static let texts = ["Ann Lee", "Zoë Müller", "quote \" and \\ backslash", "comma, {brace} [bracket]", "東京", "tab\there",
                        "emoji 🎉", "a\"}],\"x\":{\"", ""]

    @Test func theRESTFormReadBackIsTheOrder() throws {
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
            let answer = try RESTOrderJSON.one(view)
            #expect(answer.version == view.version)
            let order = try JSON.parse(bytes: answer.body)["data"]
            guard case .object(let fields)? = order else { Issue.record("round \(round): no order"); continue }
            let expectedKeys: Set<String> = ["orderId", "customerName", "customerEmail", "items", "totalAmount", "status", "orderDate",
                                             "statusHistory", "updatedAt", "version"]
            #expect(Set(fields.keys) == expectedKeys.union(view.cancelReason == nil ? [] : ["cancelReason"]))
            #expect(order?["orderId"]?.string == view.orderId && order?["customerName"]?.string == view.customerName)
            #expect(order?["customerEmail"]?.string == view.customerEmail && order?["cancelReason"]?.string == view.cancelReason)
            #expect(order?["totalAmount"]?.string == view.total.description && order?["status"]?.string == view.status.rawValue)
            #expect(order?["orderDate"]?.string == view.createdAt.description && order?["updatedAt"]?.string == view.updatedAt.description)
            #expect(order?["version"]?.int == Int64(view.version))
            let answeredItems = order?["items"]?.array ?? []
            #expect(answeredItems.count == view.items.count)
            for (item, expected) in zip(answeredItems, view.items) {
                #expect(item["productId"]?.string == expected.sku && item["productName"]?.string == expected.name)
                #expect(item["quantity"]?.int == Int64(expected.quantity) && item["price"]?.string == expected.unitPrice.description)
                #expect(item["subtotal"]?.string == expected.lineTotal.description)
            }
            let answeredHistory = order?["statusHistory"]?.array ?? []
            #expect(answeredHistory.map { $0["status"]?.string ?? "" } == view.statusHistory.map(\.status.rawValue))
            #expect(answeredHistory.map { $0["changedAt"]?.string ?? "" } == view.statusHistory.map(\.at.description))
            let listed = try JSON.parse(bytes: try RESTOrderJSON.list([view, view]))["data"]?.array
            #expect(listed == [order!, order!], "a list holds the same form")
        }
    }

    @Test func aRecordInAnotherFormIsLeftToTheDecoder() {
        #expect(RESTOrderJSON.one(record: Array(#"{"orderId":"x"}"#.utf8)) == nil)
        #expect(RESTOrderJSON.one(record: Array("not json".utf8)) == nil)
        #expect(RESTOrderJSON.one(record: []) == nil)
    }
}

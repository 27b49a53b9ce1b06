@testable import OrdersAPI
import OrdersDomain
import OrdersReadSide
import Testing
import TestSupport

/// The REST form of an order is written from its stored record by renaming keys and copying
/// values' bytes: read back, it must say exactly what the order holds, for any order.
struct RESTOrderJSONTests {
    @Test func theRESTFormReadBackIsTheOrder() throws {
        var generator = SystemRandomNumberGenerator()
        for round in 0..<500 {
            let view = OrderSamples.random(round, using: &generator)
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

import OrdersDomain
@testable import OrdersReadSide
import Testing
import TestSupport

/// An order record reads back as the order it was written from, on the fast path (field by
/// field from the bytes) and on the JSON parser's path alike, whatever its texts hold.
struct OrderRecordTests {
    @Test func aRecordReadsBackAsItsOrderOnBothPaths() throws {
        var generator = SystemRandomNumberGenerator()
        for round in 0..<500 {
            let view = OrderSamples.random(round, using: &generator)
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

import Foundation
@testable import OrdersDomain
@testable import OrdersEventLog
@testable import OrdersWriteSide
@testable import OrdersReadSide
import Testing

/// The hand-written codec against Foundation's: same reading, same bytes written.
@Suite struct JSONTests {
    static let tricky = ["plain", "", "quote \" and backslash \\", "new\nline\ttab\r", "slash / stays",
                         "ünïcødé ✓ 😀", "\u{1}\u{1f} controls", "emoji 👩‍👩‍👧 family"]

    @Test(arguments: tricky)
    func stringsRoundTripAndMatchFoundation(text: String) throws {
        var writer = JSONWriter()
        writer.string(text)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        #expect(writer.text == String(decoding: try encoder.encode(text), as: UTF8.self))
        #expect(try JSON.parse(writer.text) == .string(text))
    }

    @Test func parsesEveryKindOfValue() throws {
        let json = try JSON.parse(#" {"a":[1,-2,3.5,1e3,true,false,null],"b":{"c":"\u00e9\ud83d\ude00"},"d":"x\/y"} "#)
        #expect(json["a"] == .array([.int(1), .int(-2), .double(3.5), .double(1000), .bool(true), .bool(false), .null]))
        #expect(json["b"]?["c"] == .string("é😀"))
        #expect(json["d"] == .string("x/y"))
    }

    @Test(arguments: ["", "{", "[1,]", "{\"a\"}", "{\"a\":1,}", "\"unterminated", "tru", "01x", "\"\\x\"",
                      "\"\\ud800\"", "{\"a\":1} extra", String(repeating: "[", count: 100) + String(repeating: "]", count: 100),
                      "\"raw\ncontrol\"",
                      // Strictly RFC 8259: each of these was accepted by the request parser before.
                      "{\"id\":\"x\",\"op\":\"health\",}", "01", "-", "1.", ".5", "+1", "1e", "1e+", "-01", "NaN", "Infinity",
                      "{\"a\":1,\"a\":2}", "\"\\udc00\"", "\"\\ud800\\u0041\""])
    func refusesMalformedText(text: String) {
        #expect(throws: JSON.ParseError.self) { try JSON.parse(text) }
    }

    @Test(arguments: [[0x22, 0xff, 0x22], [0x22, 0xc0, 0xaf, 0x22], [0x22, 0xed, 0xa0, 0x80, 0x22], [0x22, 0xe2, 0x82, 0x22]] as [[UInt8]])
    func refusesInvalidUTF8InsteadOfRepairingIt(bytes: [UInt8]) {
        #expect(throws: JSON.ParseError.self) { try JSON.parse(bytes: bytes) }
    }

    @Test func numbersFollowTheGrammarAndKeepTheirKind() throws {
        #expect(try JSON.parse("0") == .int(0))
        #expect(try JSON.parse("-0") == .int(0))
        #expect(try JSON.parse("2.0") == .double(2), "a fraction makes a double, even a whole one")
        #expect(try JSON.parse("1E2") == .double(100))
        #expect(try JSON.parse("123456789012345678901234567890") == .double(1.2345678901234568e29))
    }

    @Test func theRawBytesOfATopLevelValueAreKept() throws {
        let text = #"{"op":"health","nested":{"id":1},"id":123456789012345678901234567890 }"#
        let parsed = try JSON.parse(bytes: Array(text.utf8), rawValueOf: "id")
        #expect(parsed.raw.map { String(decoding: $0, as: UTF8.self) } == "123456789012345678901234567890")
        #expect(try JSON.parse(bytes: Array(#"{"op":"x"}"#.utf8), rawValueOf: "id").raw == nil)
    }

    @Test func eventsAndRecordsEncodeExactlyAsJSONEncoderDid() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let created = OrderCreated(customerName: "Ann \"Q\" Lee", customerEmail: "ann@example.com", items: sampleItems)
        #expect(OrderEventCoding.encode(.created(created)) == String(decoding: try encoder.encode(created), as: UTF8.self))
        let cancelled = OrderCancelled(from: .pending, reason: "line\nbreak")
        #expect(OrderEventCoding.encode(.cancelled(cancelled)) == String(decoding: try encoder.encode(cancelled), as: UTF8.self))
        let noReason = OrderCancelled(from: .confirmed, reason: nil)
        #expect(OrderEventCoding.encode(.cancelled(noReason)) == String(decoding: try encoder.encode(noReason), as: UTF8.self))
        #expect(OrderEventCoding.encode(.deleted(OrderDeleted())) == "{}")

        let view = OrderView(orderId: "o-1", customerName: "Ann", customerEmail: "a@x.io", items: sampleItems, status: .cancelled,
                             statusHistory: [.init(status: .pending, at: Timestamp(milliseconds: 1)),
                                             .init(status: .cancelled, at: Timestamp(milliseconds: 2))],
                             cancelReason: "why \\ not", createdAt: Timestamp(milliseconds: 1), updatedAt: Timestamp(milliseconds: 2),
                             version: 2)
        // The record's doc is the order as getOrder answers it (keys sorted, money as strings,
        // line totals, item count and total), and reads back to the same view.
        let doc = OrderProjection.encode(view)
        #expect(String(decoding: doc, as: UTF8.self) == #"{"cancelReason":"why \\ not","createdAt":"1970-01-01T00:00:00.001Z","#
                + #""customerEmail":"a@x.io","customerName":"Ann","itemCount":3,"items":[{"lineTotal":"19.98","name":"Blue mug","#
                + #""quantity":2,"sku":"MUG-1","unitPrice":"9.99"},{"lineTotal":"4.50","name":"Green tea","quantity":1,"sku":"TEA-7","#
                + #""unitPrice":"4.50"}],"orderId":"o-1","status":"cancelled","statusHistory":[{"at":"1970-01-01T00:00:00.001Z","#
                + #""status":"pending"},{"at":"1970-01-01T00:00:00.002Z","status":"cancelled"}],"total":"24.48","#
                + #""updatedAt":"1970-01-01T00:00:00.002Z","version":2}"#)
        #expect(try OrderProjection.decode(doc) == view)
        var open = view
        open.cancelReason = nil
        #expect(try OrderProjection.decode(OrderProjection.encode(open)) == open)

        let metadata = EventMetadata(commandId: "c-1", correlationId: "k", causationId: nil, schemaVersion: 1)
        #expect(EventStore.encode(metadata) == String(decoding: try encoder.encode(metadata), as: UTF8.self))
        #expect(EventStore.encode(EventMetadata()) == String(decoding: try encoder.encode(EventMetadata()), as: UTF8.self))
    }

    /// Events read from their bytes equal events read by the parser, escapes and non-ASCII
    /// included; what the fast path does not take (trailing bytes, a number where a string
    /// belongs, an unknown type, a fractional quantity) goes to the parser, which decides as before.
    @Test func eventsReadFromTheirBytesEqualTheParsersReading() throws {
        let names = ["Ann \"Q\" Lee", "Zoë\u{0308} \\ Σος", "tab\tand\nnewline", "😀 emoji", ""]
        var events: [OrderEvent] = []
        for (index, name) in names.enumerated() {
            events.append(.created(OrderCreated(customerName: name, customerEmail: "c\(index)@example.com", items: sampleItems)))
            events.append(.cancelled(OrderCancelled(from: .pending, reason: index % 2 == 0 ? name : nil)))
        }
        events += [.statusChanged(OrderStatusChanged(from: .pending, to: .confirmed)), .deleted(OrderDeleted())]
        for event in events {
            let data = OrderEventCoding.encode(event)
            let fast = try #require(OrderEventCoding.decodeWritten(type: event.type, data: data), "\(data)")
            #expect(fast == (try OrderEventCoding.decodeParsed(type: event.type, data: data)))
            #expect(fast == event)
        }
        for (type, data) in [(OrderStatusChanged.type, #"{"from":"pending","to":"confirmed"}x"#),
                             (OrderCancelled.type, #"{"from":"pending","reason":7}"#),
                             ("OrderExploded", #"{"boom":true}"#),
                             (OrderCreated.type, #"{"customerEmail":"a@b.c","customerName":"A","items":[{"name":"n","quantity":1.5,"sku":"s","unitPrice":"1.00"}]}"#)] {
            #expect(OrderEventCoding.decodeWritten(type: type, data: data) == nil, "\(data)")
            #expect((try? OrderEventCoding.decode(type: type, data: data)) == (try? OrderEventCoding.decodeParsed(type: type, data: data)))
        }
    }
}

@testable import OrdersAPI
import Testing

/// How the server frames lines: the limit counts a line's content, whatever its terminator and
/// however its bytes are split across reads.
struct LineFramingTests {
    func connection(holding bytes: [UInt8]) -> LineFraming {
        var framing = LineFraming()
        framing.input = bytes
        return framing
    }

    @Test func aLineOfExactlyTheLimitIsAcceptedWhenItsCRArrivesBeforeItsLF() {
        let limit = 64
        let content = [UInt8](repeating: UInt8(ascii: "x"), count: limit)
        #expect(!connection(holding: content).partialLineExceeds(limit))
        #expect(!connection(holding: content + [0x0d]).partialLineExceeds(limit), "the \\r of a \\r\\n still on its way")
        #expect(connection(holding: content + [UInt8(ascii: "y")]).partialLineExceeds(limit))
        #expect(connection(holding: content + [0x0d, 0x0d]).partialLineExceeds(limit))

        var whole = connection(holding: content + [0x0d, 0x0a])
        #expect(whole.takeLines() == [content], "the same line in one read: its content, without \\r\\n")
    }
}

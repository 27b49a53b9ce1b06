@testable import OrdersAPI
import Testing

/// How the server frames lines: the limit counts a line's content, whatever its terminator and
/// however its bytes are split across reads.
struct LineFramingTests {
    let tooLarge = Array("too large\n".utf8)

    func framing(holding bytes: [UInt8], limit: Int) -> LineFraming {
        var framing = LineFraming(limit: limit, tooLarge: tooLarge)
        framing.append(bytes[...])
        return framing
    }

    func isRefusal(_ step: FramingStep<[UInt8]>) -> Bool {
        if case .refuse = step { return true }
        return false
    }

    func isNeedMore(_ step: FramingStep<[UInt8]>) -> Bool {
        if case .needMore = step { return true }
        return false
    }

    @Test func aLineOfExactlyTheLimitIsAcceptedWhenItsCRArrivesBeforeItsLF() {
        let limit = 64
        let content = [UInt8](repeating: UInt8(ascii: "x"), count: limit)
        var exact = framing(holding: content, limit: limit)
        #expect(isNeedMore(exact.next()))
        var withCR = framing(holding: content + [0x0d], limit: limit)
        #expect(isNeedMore(withCR.next()), "the \\r of a \\r\\n still on its way")
        var over = framing(holding: content + [UInt8(ascii: "y")], limit: limit)
        #expect(isRefusal(over.next()))
        var twoCRs = framing(holding: content + [0x0d, 0x0d], limit: limit)
        #expect(isRefusal(twoCRs.next()))

        var whole = framing(holding: content + [0x0d, 0x0a], limit: limit)
        guard case .request(let line) = whole.next() else { Issue.record("no line"); return }
        #expect(line == content, "the same line in one read: its content, without \\r\\n")
        #expect(isNeedMore(whole.next()))
        #expect(whole.partialSince == nil)
    }

    @Test func linesSplitAcrossReadsComeOutWholeAndBlankOnesAreSkipped() {
        var lines = LineFraming(limit: 100, tooLarge: tooLarge)
        lines.append(Array("one\n\n  \r\ntw".utf8)[...])
        guard case .request(let first) = lines.next() else { Issue.record("no first line"); return }
        #expect(first == Array("one".utf8))
        #expect(isNeedMore(lines.next()))
        #expect(lines.partialSince != nil, "\"tw\" is a line begun")
        lines.append(Array("o\r\nthree\n".utf8)[...])
        var taken: [String] = []
        while case .request(let line) = lines.next() { taken.append(String(decoding: line, as: UTF8.self)) }
        #expect(taken == ["two", "three"])
    }
}

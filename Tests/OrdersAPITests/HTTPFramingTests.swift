@testable import OrdersAPI
import Testing

/// How the server reads HTTP/1.1 requests: what clients send is framed exactly, whatever the
/// reads' boundaries; what it cannot serve is refused with the status that says why.
struct HTTPFramingTests {
    /// Every step the framing takes over `input`, fed in pieces of `chunk` bytes.
    func steps(_ input: String, chunk: Int = .max, maxBodyBytes: Int = 1 << 20) -> [FramingStep<HTTPRequest>] {
        var framing = HTTPFraming(maxBodyBytes: maxBodyBytes)
        var steps: [FramingStep<HTTPRequest>] = []
        let bytes = Array(input.utf8)
        var offset = 0
        while offset < bytes.count {
            let end = min(bytes.count, offset + chunk)
            framing.append(bytes[offset..<end])
            offset = end
            while true {
                let step = framing.next()
                if case .needMore = step { break }
                steps.append(step)
                if case .refuse = step { return steps }
            }
        }
        return steps
    }

    func requests(_ steps: [FramingStep<HTTPRequest>]) -> [HTTPRequest] {
        steps.compactMap { if case .request(let request) = $0 { request } else { nil } }
    }

    /// The status of the refusal among `steps`, if any.
    func refusal(_ steps: [FramingStep<HTTPRequest>]) -> Int? {
        for step in steps {
            if case .refuse(let bytes) = step {
                let line = String(decoding: bytes.prefix(12), as: UTF8.self)
                return Int(line.dropFirst(9).prefix(3))
            }
        }
        return nil
    }

    @Test func pipelinedRequestsComeOutWholeAndInOrderHoweverTheBytesAreSplit() {
        let input = "\r\nPOST /api/v1/orders/order HTTP/1.1\r\nHost: x\r\nContent-Length: 7\r\n\r\n{\"a\":1}"
            + "GET /api/v1/orders/summary?x=1&y=%C3%BC HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
            + "GET /health/live HTTP/1.0\nHost: x\n\n"
        for chunk in [1, 2, 3, 7, 64, .max] {
            let got = requests(steps(input, chunk: chunk))
            #expect(got.count == 3, "chunk \(chunk)")
            guard got.count == 3 else { continue }
            #expect(got[0].method == "POST" && got[0].path == "/api/v1/orders/order" && got[0].body == Array("{\"a\":1}".utf8))
            #expect(got[0].keepAlive)
            #expect(got[1].queryParameters?["y"] == "ü" && got[1].pathSegments == ["api", "v1", "orders", "summary"])
            #expect(!got[1].keepAlive, "Connection: close")
            #expect(!got[2].keepAlive, "HTTP/1.0 closes unless it asks for keep-alive")
            #expect(got[2].header("host") == "x", "bare LF line ends are read too")
        }
    }

    @Test func aLaterMinorVersionIsServedAsHTTP11() {
        let got = requests(steps("GET /a HTTP/1.2\r\nHost: x\r\n\r\n"))
        #expect(got.count == 1 && got.first?.keepAlive == true)
    }

    @Test func expectContinueIsAnsweredOnceTheHeadIsIn() {
        let got = steps("PUT /a HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n", chunk: 10)
        guard case .interim(let bytes)? = got.first else { Issue.record("no 100 Continue"); return }
        #expect(String(decoding: bytes, as: UTF8.self) == "HTTP/1.1 100 Continue\r\n\r\n")
        #expect(requests(got).isEmpty, "the body has not arrived")
        #expect(refusal(steps("PUT /a HTTP/1.1\r\nHost: x\r\nExpect: something\r\nContent-Length: 2\r\n\r\nab")) == 417)
    }

    @Test func whatCannotBeServedIsRefusedWithItsStatus() {
        let cases: [(String, Int)] = [
            ("GET /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", 411),
            ("POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\nhello", 400),
            ("POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n", 400),
            ("POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello", 400),
            ("POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999999\r\n\r\n", 400),
            ("POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 2000000\r\n\r\n", 413),
            ("GET /a HTTP/1.1\r\n\r\n", 400),
            ("GET /a HTTP/2.0\r\nHost: x\r\n\r\n", 505),
            ("GET /a HTTP/1x1\r\nHost: x\r\n\r\n", 400),
            ("GET /a HTTP/1.10\r\nHost: x\r\n\r\n", 400),
            ("GET /a\r\nHost: x\r\n\r\n", 400),
            ("GET  /a HTTP/1.1\r\nHost: x\r\n\r\n", 400),
            ("G(T /a HTTP/1.1\r\nHost: x\r\n\r\n", 400),
            ("GET a HTTP/1.1\r\nHost: x\r\n\r\n", 400),
            ("GET /a HTTP/1.1\r\nHost : x\r\n\r\n", 400),
            ("GET /a HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n  folded\r\n\r\n", 400),
            ("GET /a HTTP/1.1\r\nHost: x\r\nX-A: a\u{1}b\r\n\r\n", 400),
            ("\u{0}\u{1}\u{2}binary garbage\r\n\r\n", 400),
            ("GET /" + String(repeating: "a", count: 20_000) + " HTTP/1.1\r\n", 414),
            ("GET /a HTTP/1.1\r\nHost: x\r\n" + String(repeating: "X-Long: " + String(repeating: "v", count: 100) + "\r\n", count: 200), 431),
            ("GET /a HTTP/1.1\r\nHost: x\r\n" + String(repeating: "X-A: 1\r\n", count: 150) + "\r\n", 431),
        ]
        for (input, status) in cases {
            for chunk in [3, .max] {
                let got = steps(input, chunk: chunk)
                #expect(refusal(got) == status, "\(input.prefix(60).debugDescription) in chunks of \(chunk)")
                #expect(requests(got).isEmpty)
            }
        }
    }

    @Test func aRequestBegunButNotFinishedIsPartialUntilItEnds() {
        var framing = HTTPFraming()
        #expect(framing.partialSince == nil)
        framing.append(Array("GET /a HTTP/1.1\r\nHo".utf8)[...])
        if case .needMore = framing.next() {} else { Issue.record("a half head is not a request") }
        #expect(framing.partialSince != nil)
        framing.append(Array("st: x\r\n\r\n".utf8)[...])
        guard case .request = framing.next() else { Issue.record("the head is complete"); return }
        if case .needMore = framing.next() {} else { Issue.record("nothing more") }
        #expect(framing.partialSince == nil)
    }
}

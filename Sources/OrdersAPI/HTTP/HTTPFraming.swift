/// Splits a connection's bytes into HTTP/1.1 requests (RFC 9112), for what clients actually
/// send: a request line, header fields, and a body of `Content-Length` bytes. Anything it cannot
/// serve is refused with the status that says why, and the connection closes (the rest of its
/// bytes cannot be trusted to start a request):
///
/// - 400 a malformed request line or header field, `Transfer-Encoding` with `Content-Length`, a
///   bad `Content-Length`, HTTP/1.1 without `Host`;
/// - 411 a chunked (or otherwise transfer-coded) body: this server reads `Content-Length` only;
/// - 413 a body over `maxBodyBytes`; 414 a request line over `maxHeadBytes`; 431 a head over
///   `maxHeadBytes` or with more than `maxHeaderFields` fields;
/// - 417 an `Expect` other than `100-continue`; 505 an HTTP version other than 1.0 and 1.1.
///
/// `Expect: 100-continue` is answered with `100 Continue` as soon as the head is read (curl
/// waits for it before sending a body over 1 KB).
public struct HTTPFraming: RequestFraming {
    let maxHeadBytes: Int
    let maxHeaderFields: Int
    let maxBodyBytes: Int

    var input = FramingInput()
    /// A head read, its body still arriving.
    var pending: (request: HTTPRequest, length: Int)?
    var continueSent = false

    public var partialSince: ContinuousClock.Instant? { input.partialSince }
    public var bufferedBytes: Int { input.buffered }

    public init(maxHeadBytes: Int = 16 << 10, maxHeaderFields: Int = 100, maxBodyBytes: Int = 1 << 20) {
        self.maxHeadBytes = maxHeadBytes
        self.maxHeaderFields = maxHeaderFields
        self.maxBodyBytes = maxBodyBytes
    }

    public mutating func append(_ bytes: ArraySlice<UInt8>) {
        input.append(bytes)
    }

    public mutating func next() -> FramingStep<HTTPRequest> {
        if pending == nil {
            // Empty lines before a request line are ignored (RFC 9112 §2.2).
            while input.start < input.bytes.count && (input.bytes[input.start] == 0x0d || input.bytes[input.start] == 0x0a) {
                input.start += 1
            }
            input.scanFrom = max(input.scanFrom, input.start)
            guard let end = headEnd() else {
                input.idle()
                if input.buffered > maxHeadBytes {
                    let lineEnd = input.bytes[input.start...].firstIndex(of: 0x0a) ?? input.bytes.count
                    if lineEnd - input.start > maxHeadBytes { return refuse(414, "the request line is longer than 16 KiB") }
                    return refuse(431, "the request's header section is larger than 16 KiB")
                }
                input.compact()
                return .needMore
            }
            if end.headLength > maxHeadBytes { return refuse(431, "the request's header section is larger than 16 KiB") }
            switch parseHead(input.bytes[input.start..<(input.start + end.headLength)]) {
            case .refused(let refusal): return .refuse(refusal.encode(keepAlive: false))
            case .parsed(let request, let length):
                input.start += end.totalLength
                input.scanFrom = input.start
                pending = (request, length)
                continueSent = false
            }
        }
        guard let (request, length) = pending else { return .needMore }
        if input.buffered < length {
            if !continueSent, length > 0, request.header("expect") != nil {
                continueSent = true
                return .interim(Array("HTTP/1.1 100 Continue\r\n\r\n".utf8))
            }
            return .needMore
        }
        var complete = request
        complete.body = Array(input.bytes[input.start..<(input.start + length)])
        input.consume(upTo: input.start + length)
        pending = nil
        input.compact()
        return .request(complete)
    }

    /// The length of the head (request line and fields, without the blank line) and of the head
    /// with its blank line, once a blank line ("\r\n\r\n" or "\n\n") has arrived.
    private mutating func headEnd() -> (headLength: Int, totalLength: Int)? {
        let bytes = input.bytes, start = input.start
        var index = max(input.scanFrom, start)
        while index < bytes.count {
            if bytes[index] == 0x0a {
                // A line ends here; is the next line empty?
                if index + 1 < bytes.count && bytes[index + 1] == 0x0a {
                    return (index + 1 - start, index + 2 - start)
                }
                if index + 2 < bytes.count && bytes[index + 1] == 0x0d && bytes[index + 2] == 0x0a {
                    return (index + 1 - start, index + 3 - start)
                }
                if index + 2 >= bytes.count { break } // the blank line may still be on its way
            }
            index += 1
        }
        input.scanFrom = max(start, index - 2)
        return nil
    }

    private mutating func refuse(_ status: Int, _ message: String) -> FramingStep<HTTPRequest> {
        .refuse(Self.refusal(status, message).encode(keepAlive: false))
    }

    static func refusal(_ status: Int, _ message: String) -> HTTPResponse {
        HTTPResponse.error(status, code: status == 413 ? .tooLarge : .invalidRequest, message: message, close: true)
    }

    enum HeadParse {
        case parsed(HTTPRequest, length: Int)
        case refused(HTTPResponse)
    }

    /// The request line and header fields, checked; the body's length.
    private func parseHead(_ head: ArraySlice<UInt8>) -> HeadParse {
        var lines = head.split(separator: 0x0a, omittingEmptySubsequences: false).map { line -> ArraySlice<UInt8> in
            line.last == 0x0d ? line.dropLast() : line
        }
        if lines.last?.isEmpty == true { lines.removeLast() }
        guard let requestLine = lines.first else { return .refused(Self.refusal(400, "the request line is missing")) }
        let parts = requestLine.split(separator: 0x20, omittingEmptySubsequences: false)
        guard parts.count == 3, let method = Self.token(parts[0]), !parts[1].isEmpty,
              parts[1].allSatisfy({ $0 > 0x20 && $0 < 0x7f }) else {
            return .refused(Self.refusal(400, "the request line must be METHOD SP target SP HTTP-version"))
        }
        // HTTP-version = "HTTP/" DIGIT "." DIGIT; a later 1.x is served as 1.1 (RFC 9110 §2.5).
        let version = Array(parts[2])
        let isDigit = { (byte: UInt8) in byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }
        guard version.count == 8, version.starts(with: Array("HTTP/".utf8)), isDigit(version[5]), version[6] == UInt8(ascii: "."),
              isDigit(version[7]) else {
            return .refused(Self.refusal(400, "the request line must end with an HTTP version like HTTP/1.1"))
        }
        guard version[5] == UInt8(ascii: "1") else {
            return .refused(Self.refusal(505, "this server speaks HTTP/1.1 and HTTP/1.0"))
        }
        let http10 = version[7] == UInt8(ascii: "0")
        // The target, split at "?" on its bytes: absolute form keeps only what follows the authority.
        var targetBytes = parts[1]
        if targetBytes.starts(with: "http://".utf8) || targetBytes.starts(with: "https://".utf8) {
            let afterScheme = targetBytes.index(targetBytes.firstIndex(of: UInt8(ascii: ":"))!, offsetBy: 3)
            let rest = targetBytes[afterScheme...]
            targetBytes = rest.firstIndex(of: UInt8(ascii: "/")).map { rest[$0...] } ?? ArraySlice("/".utf8)
        }
        guard targetBytes.first == UInt8(ascii: "/") || targetBytes.elementsEqual("*".utf8) else {
            return .refused(Self.refusal(400, "the request target must be a path starting with /"))
        }
        let questionMark = targetBytes.firstIndex(of: UInt8(ascii: "?"))
        let path = String(decoding: targetBytes[..<(questionMark ?? targetBytes.endIndex)], as: UTF8.self)
        let query = questionMark.map { String(decoding: targetBytes[($0 + 1)...], as: UTF8.self) }
        var headers: [(name: String, value: String)] = []
        for line in lines.dropFirst() {
            guard headers.count < maxHeaderFields else {
                return .refused(Self.refusal(431, "the request has more than \(maxHeaderFields) header fields"))
            }
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")), let name = Self.fieldName(line[line.startIndex..<colon]) else {
                return .refused(Self.refusal(400, "a header field must be name: value (no folded lines, no space before the colon)"))
            }
            var value = line[(colon + 1)...]
            while let first = value.first, first == 0x20 || first == 0x09 { value = value.dropFirst() }
            while let last = value.last, last == 0x20 || last == 0x09 { value = value.dropLast() }
            guard value.allSatisfy({ $0 >= 0x20 || $0 == 0x09 }), !value.contains(0x7f) else {
                return .refused(Self.refusal(400, "header field \(name) holds control characters"))
            }
            headers.append((name, String(decoding: value, as: UTF8.self)))
        }
        var request = HTTPRequest(method: method, path: path, query: query, headers: headers, body: [], keepAlive: true)
        let connection = request.header("connection").map { value in
            value.lowercased().split(separator: ",").map { $0.trimmingCharacters(in: " \t") }
        } ?? []
        request.keepAlive = http10 ? connection.contains("keep-alive") : !connection.contains("close")
        request.http10 = http10
        if !http10 && request.header("host") == nil {
            return .refused(Self.refusal(400, "HTTP/1.1 requests must carry a Host header"))
        }
        let lengths = headers.filter { $0.name == "content-length" }.map(\.value)
        if request.header("transfer-encoding") != nil {
            if !lengths.isEmpty {
                return .refused(Self.refusal(400, "a request must not carry both Transfer-Encoding and Content-Length"))
            }
            return .refused(Self.refusal(411, "request bodies must be sent with Content-Length (chunked bodies are not read)"))
        }
        var length = 0
        if let first = lengths.first {
            // Repeated fields must agree; each value may itself be a list of equal values.
            let values = Set(lengths.flatMap { $0.split(separator: ",").map { $0.trimmingCharacters(in: " \t") } })
            guard values.count == 1, first.utf8.count <= 18, let only = values.first, !only.isEmpty,
                  only.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }), let parsed = Int(only) else {
                return .refused(Self.refusal(400, "Content-Length must be one whole number of bytes"))
            }
            length = parsed
        }
        if length > maxBodyBytes {
            return .refused(Self.refusal(413, "the request body is larger than the server's limit of \(maxBodyBytes) bytes"))
        }
        if let expect = request.header("expect"), expect.lowercased() != "100-continue" {
            return .refused(HTTPResponse.error(417, code: .invalidRequest, message: "only Expect: 100-continue is understood", close: true))
        }
        return .parsed(request, length: length)
    }

    /// A method or field name: one or more of RFC 9110's token characters.
    private static func token(_ bytes: ArraySlice<UInt8>) -> String? {
        guard !bytes.isEmpty, bytes.allSatisfy(isTokenCharacter) else { return nil }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// A field name, lower-cased (names are case-insensitive; tokens are ASCII).
    private static func fieldName(_ bytes: ArraySlice<UInt8>) -> String? {
        guard !bytes.isEmpty, bytes.allSatisfy(isTokenCharacter) else { return nil }
        return String(decoding: bytes.map { $0 >= 0x41 && $0 <= 0x5a ? $0 | 0x20 : $0 }, as: UTF8.self)
    }

    private static func isTokenCharacter(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"): true
        default: "!#$%&'*+-.^_`|~".utf8.contains(byte)
        }
    }
}

private extension Substring {
    func trimmingCharacters(in set: String) -> String {
        var text = self[...]
        while let first = text.first, set.contains(first) { text = text.dropFirst() }
        while let last = text.last, set.contains(last) { text = text.dropLast() }
        return String(text)
    }
}

import OrdersDomain

/// Turns one request line into one response line: `{"id":…,"op":…,<fields>}` to the catalogue's
/// operation of that name. Every failure becomes an error response with a documented code:
/// nothing a client sends can throw past this type or end the connection, except a line over the
/// size limit, which the server itself answers.
public final class LineRouter: Sendable {
    public let api: APIContext
    let catalogue: OperationCatalogue

    public init(api: APIContext, catalogue: OperationCatalogue = .standard) {
        self.api = api
        self.catalogue = catalogue
    }

    /// Answers one request line and counts it (`ServiceMetrics.request`) under its operation, or
    /// `unknown` for a line that names none.
    public func respond(to line: [UInt8]) async -> [UInt8] {
        let start = ContinuousClock.now
        let (operation, outcome, answer) = await answer(line)
        api.metrics.request(protocol: "line", operation: operation, outcome: outcome, seconds: (ContinuousClock.now - start).seconds)
        return answer
    }

    private func answer(_ line: [UInt8]) async -> (operation: String, outcome: String, [UInt8]) {
        let parsed: (value: JSON, raw: ArraySlice<UInt8>?)
        do {
            parsed = try JSON.parse(bytes: line, rawValueOf: "id")
        } catch {
            let error = APIError(.invalidJSON, "the request is not valid JSON (one UTF-8 JSON object per line): \(error)")
            return ("unknown", error.code.rawValue, Self.encode(id: RawJSON.null, error: error))
        }
        guard case .object(let object) = parsed.value else {
            let error = APIError(.invalidRequest, "a request must be a JSON object")
            return ("unknown", error.code.rawValue, Self.encode(id: RawJSON.null, error: error))
        }
        var entry: OperationCatalogue.Entry?
        if case .string(let op)? = object["op"] { entry = catalogue.entry(named: op).flatMap { $0.onLineProtocol ? $0 : nil } }
        let operation = entry?.name ?? "unknown"
        // The id goes back exactly as the client wrote it, byte for byte.
        let id = parsed.raw.map { RawJSON(Array($0)) } ?? RawJSON.null
        do {
            let request = RequestFields(object: object)
            guard api.accepts(token: request.object["token"]?.string) else { throw APIError(.unauthorized, "a valid token is required") }
            let op = try request.string("op")
            guard let perform = entry?.line else { throw APIError(.invalidRequest, "unknown op '\(op.prefix(40))'") }
            return (operation, "ok", Self.encode(id: id, result: try await perform(request, api)))
        } catch {
            let refusal = APIError(any: error)
            return (operation, refusal.code.rawValue, Self.encode(id: id, error: refusal))
        }
    }

    // MARK: - Encoding

    /// `{"id":…,"ok":true,"result":…}`, the result's JSON copied in as it is.
    static func encode(id: RawJSON, result: [UInt8]) -> [UInt8] {
        var line: [UInt8] = []
        line.reserveCapacity(result.count + id.bytes.count + 32)
        line += #"{"id":"#.utf8
        line += id.bytes
        line += #","ok":true,"result":"#.utf8
        line += result
        line.append(UInt8(ascii: "}"))
        return line
    }

    /// `{"error":{"code":…,"message":…,<details>},"id":…,"ok":false}`, keys sorted, written
    /// directly (conflicts are frequent answers under contention).
    static func encode(id: RawJSON, error: APIError) -> [UInt8] {
        var json = JSONWriter()
        json.raw(#"{"error":{"#)
        var fields: [(String, any Sendable)] = error.details.map { ($0.key, $0.value) }
        fields += [("code", error.code.rawValue), ("message", error.message)]
        for (index, (key, value)) in fields.sorted(by: { $0.0.utf8.lexicographicallyPrecedes($1.0.utf8) }).enumerated() {
            json.key(key, first: index == 0)
            switch value {
            case let number as Int: json.raw(String(number))
            case let text as String: json.string(text)
            default: json.string("\(value)")
            }
        }
        json.raw(#"},"id":"#)
        var line = json.bytes
        line += id.bytes
        line += #","ok":false}"#.utf8
        return line
    }
}

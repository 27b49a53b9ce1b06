import Foundation
import OrdersAPI
import OrdersDomain

/// Suite 8: a generic fuzzer driven by the OpenAPI document alone. For each request it picks an
/// operation of the document, fills its path, query and header parameters and its body from
/// their schemas (mostly valid values, sometimes broken ones: wrong types, out of range, missing
/// required fields, garbage strings), sends it, and requires an answer the document describes
/// for that operation and status, and never a 5xx. Order ids and log positions come from orders
/// it created first, so commands and read-your-writes reach real orders. After an answer whose
/// status has OpenAPI `links` (a created or changed order), it follows one of them now and then,
/// and from that answer's links again (up to three deep), as a stateful client would: the linked
/// operation's parameters from the answer (`$response.body#/orderId`, `$response.header.ETag`,
/// `$response.header.Orders-Log-Position`), the rest sampled valid; and it walks every link of a
/// created order once. A link must lead to an answer the document describes, and (but for
/// `orderAsOf`, whose time is sampled) to the order it names.
public struct OpenAPIFuzzSuite: Sendable {
    public var requests: Int

    public init(requests: Int = 5_000) {
        self.requests = requests
    }

    public func run(_ environment: SoakEnvironment) async throws -> SuiteReport {
        var report = SuiteReport(suite: "8 OpenAPI fuzzer")
        let started = ContinuousClock.now
        let service = try environment.service(environment.namespace("openapi"))
        try await service.start()
        defer { service.kill() }
        let port = service.httpPort
        let outcome = try await onThreads(1) { [requests] _ in try Self.fuzz(port: port, requests: requests) }[0]
        report.sent = outcome.sent
        report.badInputs = outcome.broken
        report.failures += outcome.problems.prefix(8)
        if outcome.problems.count > 8 { report.failures.append("… and \(outcome.problems.count - 8) more") }
        if !service.isRunning { report.failures.append("the server died"); report.crashes += 1 }
        let statuses = outcome.statuses.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", ")
        report.notes.append("\(outcome.sent) requests over \(outcome.operations) operations (\(outcome.broken) with a broken value); statuses \(statuses)")
        let linked = outcome.links.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", ")
        report.notes.append("\(outcome.links.values.reduce(0, +)) OpenAPI links followed from the answers; statuses \(linked)")
        report.notes.append("links led to \(outcome.linkTargets.sorted().joined(separator: ", "))")
        if outcome.linkTargets.count < 6 { report.failures.append("links led to \(outcome.linkTargets.count) operations, not the 6 a created order links to") }
        report.seconds = (ContinuousClock.now - started).seconds
        return report
    }

    struct Outcome: Sendable {
        var sent = 0
        var broken = 0
        var operations = 0
        var statuses: [Int: Int] = [:]
        var problems: [String] = []
        /// Links followed, by the status of the answer they led to.
        var links: [Int: Int] = [:]
        /// The operations links led to.
        var linkTargets: Set<String> = []
    }

    static func fuzz(port: Int, requests: Int) throws -> Outcome {
        let conformance = OpenAPIConformance.shared
        var outcome = Outcome()
        var connection = try HTTPConnection(port: port)
        // Real orders to aim at.
        var orderIds: [String] = [], positions: [String] = []
        for index in 0..<10 {
            let created = try connection.request("POST", "/api/v1/orders/order", body:
                #"{"customerName":"Fuzz \#(index)","customerEmail":"fuzz\#(index)@example.com","items":[{"productId":"P-\#(index)","productName":"Thing","quantity":1,"price":"3.50"}]}"#)
            if let id = created.json?["orderId"]?.string { orderIds.append(id) }
            if let position = created.headers["orders-log-position"] { positions.append(position) }
        }
        var operations: [(template: String, method: String, operation: JSON)] = []
        for (template, item) in conformance.paths {
            if case .object(let methods) = item { for (method, operation) in methods { operations.append((template, method, operation)) } }
        }
        operations.sort { ($0.template, $0.method) < ($1.template, $1.method) }
        outcome.operations = operations.count
        let byId = Dictionary(operations.map { ($0.operation["operationId"]?.string ?? "", $0) }) { first, _ in first }
        var sampler = SchemaSampler(conformance: conformance, generator: SeededGenerator(seed: 8), orderIds: orderIds, positions: positions)

        for _ in 0..<requests {
            let (template, method, operation) = operations[sampler.int(operations.count)]
            var broken = false
            var path = template
            var query: [String] = []
            var headers: [(String, String)] = []
            for parameter in operation["parameters"]?.array ?? [] {
                let resolved = parameter["$ref"]?.string.flatMap(conformance.resolve) ?? parameter
                guard let name = resolved["name"]?.string, let place = resolved["in"]?.string else { continue }
                let required = resolved["required"] == .bool(true)
                if !required && sampler.int(2) == 0 { continue }
                let valid = sampler.int(5) != 0
                if !valid { broken = true }
                let text = sampler.parameter(name, resolved["schema"] ?? .null, valid: valid)
                switch place {
                case "path": path = path.replacingOccurrences(of: "{\(name)}", with: SchemaSampler.percentEncoded(text))
                case "query": query.append("\(SchemaSampler.percentEncoded(name))=\(SchemaSampler.percentEncoded(text))")
                case "header": headers.append((name, text.filter { $0 != "\r" && $0 != "\n" }))
                default: break
                }
            }
            var body: String?
            if let schema = operation["requestBody"]?["content"]?["application/json"]?["schema"] {
                let required = operation["requestBody"]?["required"] == .bool(true)
                if required || sampler.int(3) != 0 {
                    let valid = sampler.int(4) != 0
                    if !valid { broken = true }
                    body = String(decoding: sampler.value(schema, valid: valid, depth: 0).encoded, as: UTF8.self)
                }
            }
            if broken { outcome.broken += 1 }
            let target = path + (query.isEmpty ? "" : "?" + query.joined(separator: "&"))
            guard let response = try send(method.uppercased(), target, body: body, headers: headers, &connection, &outcome, port: port)
            else { continue }
            if sampler.int(2) == 0 {
                try followOneLink(of: (template, method, operation), from: response, byId, &connection, &sampler, &outcome, port: port)
            }
        }
        // Every link of a created order's answer, each from an order of its own (a delete would
        // end the others' order), as a stateful client walks them.
        if let create = byId["createOrder"], case .object(let links)? = create.operation["responses"]?["201"]?["links"] {
            for (name, link) in links.sorted(by: { $0.key < $1.key }) {
                guard let target = link["operationId"]?.string.flatMap({ byId[$0] }) else { continue }
                let body = #"{"customerName":"Link \#(name)","customerEmail":"link@example.com","items":[{"productId":"P-1","productName":"Thing","quantity":2,"price":"1.25"}]}"#
                guard let created = try send("POST", create.template, body: body, headers: [], &connection, &outcome, port: port),
                      created.status == 201 else { continue }
                try follow(link, to: target, from: created, byId, &connection, &sampler, &outcome, port: port, depth: 1)
            }
        }
        return outcome
    }

    typealias Operation = (template: String, method: String, operation: JSON)

    /// Follows one of the links the document gives `operation`'s answer with this status, if any.
    static func followOneLink(of operation: Operation, from response: HTTPConnection.Response, _ byId: [String: Operation],
                              _ connection: inout HTTPConnection, _ sampler: inout SchemaSampler, _ outcome: inout Outcome,
                              port: Int, depth: Int = 0) throws {
        guard depth < 3, case .object(let links)? = operation.operation["responses"]?[String(response.status)]?["links"], !links.isEmpty
        else { return }
        let link = links.sorted { $0.key < $1.key }[sampler.int(links.count)].value
        guard let target = link["operationId"]?.string.flatMap({ byId[$0] }) else {
            outcome.problems.append("a link of \(operation.method.uppercased()) \(operation.template) names no operation of the document")
            return
        }
        try follow(link, to: target, from: response, byId, &connection, &sampler, &outcome, port: port, depth: depth + 1)
    }

    /// Sends one request and checks its answer against the document: no 5xx, and (`found`) no
    /// 404 either. nil when no answer came (recorded as a problem; the connection is new).
    static func send(_ verb: String, _ target: String, body: String?, headers: [(String, String)], link: Bool = false,
                     found: Bool = false, _ connection: inout HTTPConnection, _ outcome: inout Outcome,
                     port: Int) throws -> HTTPConnection.Response? {
        let label = link ? " (a link)" : ""
        let response: HTTPConnection.Response
        do {
            response = try connection.request(verb, target, body: body, headers: headers)
        } catch {
            outcome.problems.append("\(verb) \(target)\(label): no answer (\(error))")
            connection = try HTTPConnection(port: port)
            return nil
        }
        outcome.sent += 1
        outcome.statuses[response.status, default: 0] += 1
        if link { outcome.links[response.status, default: 0] += 1 }
        let request = "\(verb) \(target.prefix(160))\(body.map { " " + $0.prefix(160) } ?? "")\(label)"
        if response.status >= 500 || (found && response.status == 404) {
            outcome.problems.append("\(response.status) to \(request): \(response.text.prefix(200))")
        } else if let problem = OpenAPIConformance.shared.problem(method: verb, path: target, status: response.status,
                                                                  contentType: response.headers["content-type"], body: response.body) {
            outcome.problems.append("\(problem) (to \(request))")
        }
        if response.headers["connection"] == "close" { connection = try HTTPConnection(port: port) }
        return response
    }

    /// Sends the operation a link names, its parameters from `answer` as the link says, and
    /// checks what it answers.
    /// Where the answer leads on (updateStatus's to the order's other operations), one more link
    /// may be followed, up to three deep.
    static func follow(_ link: JSON, to target: Operation, from answer: HTTPConnection.Response, _ byId: [String: Operation],
                       _ connection: inout HTTPConnection, _ sampler: inout SchemaSampler, _ outcome: inout Outcome,
                       port: Int, depth: Int) throws {
        let conformance = OpenAPIConformance.shared
        var path = target.template
        var query: [String] = []
        var headers: [(String, String)] = []
        for parameter in target.operation["parameters"]?.array ?? [] {
            let resolved = parameter["$ref"]?.string.flatMap(conformance.resolve) ?? parameter
            guard let name = resolved["name"]?.string, let place = resolved["in"]?.string else { continue }
            let text: String
            if let expression = link["parameters"]?["\(place).\(name)"]?.string {
                guard let value = Self.evaluate(expression, answer) else {
                    outcome.problems.append("link to \(target.method.uppercased()) \(target.template): \(expression) is not in the answer")
                    return
                }
                text = value
            } else if resolved["required"] == .bool(true) {
                text = sampler.parameter(name, resolved["schema"] ?? .null, valid: true)
            } else {
                continue
            }
            switch place {
            case "path": path = path.replacingOccurrences(of: "{\(name)}", with: SchemaSampler.percentEncoded(text))
            case "query": query.append("\(SchemaSampler.percentEncoded(name))=\(SchemaSampler.percentEncoded(text))")
            case "header": headers.append((name, text))
            default: break
            }
        }
        var body: String?
        if let schema = target.operation["requestBody"]?["content"]?["application/json"]?["schema"] {
            body = String(decoding: sampler.value(schema, valid: true, depth: 0).encoded, as: UTF8.self)
        }
        let url = path + (query.isEmpty ? "" : "?" + query.joined(separator: "&"))
        // A link leads to an order that exists: not found is a failure. But as-of, at a time
        // before the order, rightly finds none, and an answer replayed for a command id used
        // before (`Idempotent-Replayed`) tells of an order that may have been deleted since.
        let firstHand = answer.headers["idempotent-replayed"] == nil
        outcome.linkTargets.insert(target.operation["operationId"]?.string ?? target.template)
        guard let response = try send(target.method.uppercased(), url, body: body, headers: headers, link: true,
                                      found: firstHand && target.operation["operationId"]?.string != "orderAsOf",
                                      &connection, &outcome, port: port)
        else { return }
        if sampler.int(2) == 0 {
            try followOneLink(of: target, from: response, byId, &connection, &sampler, &outcome, port: port, depth: depth)
        }
    }

    /// A link's runtime expression against an answer: `$response.body#/<pointer>` or
    /// `$response.header.<name>`.
    static func evaluate(_ expression: String, _ answer: HTTPConnection.Response) -> String? {
        if expression.hasPrefix("$response.header.") {
            return answer.headers[String(expression.dropFirst("$response.header.".count)).lowercased()]
        }
        guard expression.hasPrefix("$response.body#/") else { return nil }
        var value = answer.json
        for token in expression.dropFirst("$response.body#/".count).split(separator: "/") { value = value?[String(token)] }
        return value.map(SchemaSampler.text)
    }
}

/// Values for a schema: valid ones, or broken ones (wrong type, out of range, garbage).
struct SchemaSampler {
    let conformance: OpenAPIConformance
    var generator: SeededGenerator
    let orderIds: [String]
    let positions: [String]

    static let garbage = ["", " ", "null", "-1", "1e309", "9999999999999999999999", "ü", "東京", "🎉", "a\u{0}b", "%", "../..",
                          String(repeating: "x", count: 300), "\"quoted\"", "<tag>", "DROP TABLE", "0x10", "1.234", "-0.00"]

    mutating func int(_ bound: Int) -> Int { Int.random(in: 0..<max(1, bound), using: &generator) }

    /// A parameter's text: ids and positions from real orders when valid.
    mutating func parameter(_ name: String, _ schema: JSON, valid: Bool) -> String {
        guard valid else { return Self.garbage[int(Self.garbage.count)] }
        switch name {
        case "orderId": return orderIds.isEmpty ? "x" : orderIds[int(orderIds.count)]
        case "minPosition", "Orders-Min-Position": return positions.isEmpty ? "0-0" : positions[int(positions.count)]
        case "If-Match": return ["\"1\"", "\"2\"", "*", "\"\(int(5))\""][int(4)]
        case "email", "customerEmail": return "fuzz\(int(10))@example.com"
        case "at", "fromDate", "toDate": return ["2026-11-23", "2026-11-23T10:00:00Z", "2999-01-01T00:00:00.000Z"][int(3)]
        case "minAmount", "maxAmount": return ["0", "3.50", "100.00"][int(3)]
        case "untilPhase": return ["done", "done,failed", "reading"][int(3)]
        default: return Self.text(value(schema, valid: true, depth: 0))
        }
    }

    static func text(_ value: JSON) -> String {
        switch value {
        case .string(let text): text
        case .int(let number): String(number)
        case .double(let number): String(number)
        case .bool(let flag): String(flag)
        default: String(decoding: value.encoded, as: UTF8.self)
        }
    }

    mutating func value(_ schema: JSON, valid: Bool, depth: Int) -> JSON {
        if let reference = schema["$ref"]?.string, let target = conformance.resolve(reference) {
            return value(target, valid: valid, depth: depth)
        }
        if let options = schema["oneOf"]?.array, !options.isEmpty { return value(options[int(options.count)], valid: valid, depth: depth) }
        // A broken value: of another type, or a broken member deeper down.
        if !valid && (depth > 0 || int(2) == 0) && int(3) == 0 {
            let wrong: [JSON] = [.null, .bool(true), .int(-7), .double(1e300), .string(Self.garbage[int(Self.garbage.count)]), .array([]), .object([:])]
            return wrong[int(wrong.count)]
        }
        if let allowed = schema["enum"]?.array, !allowed.isEmpty {
            return valid || int(2) == 0 ? allowed[int(allowed.count)] : .string("not-" + (allowed[0].string ?? "x"))
        }
        switch schema["type"]?.string {
        case "string"?:
            if schema["format"]?.string == "email" { return .string(valid ? "fuzz\(int(10))@example.com" : "no-at-sign") }
            if let pattern = schema["pattern"]?.string {
                if pattern.contains("[0-9]{1,19}") { return .string(positions.isEmpty ? "0-0" : positions[int(positions.count)]) }
                if pattern.contains("\\.") { return .string(valid ? ["1.00", "9.99", "0.50", "12"][int(4)] : ["1.999", "-5", "abc"][int(3)]) }
            }
            if !valid { return .string(Self.garbage[int(Self.garbage.count)]) }
            return .string(["Ann Lee", "Blue mug", "SKU-1", "changed mind", "Zoë", "x"][int(6)])
        case "integer"?:
            let low = schema["minimum"]?.int ?? 0, high = schema["maximum"]?.int ?? 100
            return .int(valid ? Int64.random(in: low...max(low, min(high, low + 100)), using: &generator) : [low - 1, high + 1, Int64.max][int(3)])
        case "number"?:
            return .double(valid ? Double(int(10_000)) / 100 : -1)
        case "boolean"?:
            return .bool(int(2) == 0)
        case "array"?:
            let count = valid ? 1 + int(3) : int(2) == 0 ? 0 : 1
            return .array((0..<count).map { _ in value(schema["items"] ?? .object([:]), valid: valid || int(2) == 0, depth: depth + 1) })
        case "object"?, nil:
            var fields: [String: JSON] = [:]
            var properties: [String: JSON] = [:]
            if case .object(let declared)? = schema["properties"] { properties = declared }
            let required = Set(schema["required"]?.array?.compactMap(\.string) ?? [])
            var dropped = false
            for (name, property) in properties.sorted(by: { $0.key < $1.key }) {
                if required.contains(name) {
                    if !valid && !dropped && int(3) == 0 { dropped = true; continue }
                } else if int(2) == 0 {
                    continue
                }
                fields[name] = value(property, valid: valid ? true : int(3) != 0, depth: depth + 1)
            }
            if !valid && int(3) == 0 { fields["unexpected"] = .string("field") }
            return .object(fields)
        default:
            return .null
        }
    }

    static func percentEncoded(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "~"), UInt8(ascii: "@"), UInt8(ascii: ":"):
                out.append(Character(UnicodeScalar(byte)))
            default:
                out += String(format: "%%%02X", byte)
            }
        }
        return out
    }
}

extension OpenAPIFuzzSuite: SoakSuite {}

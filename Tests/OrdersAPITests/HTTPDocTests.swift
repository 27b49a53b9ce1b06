import Foundation
import Testing
import TestSupport

/// Runs every curl example of docs/HTTP.md against a real server, with curl: the status line
/// must be the one shown, each header shown must be there with that value, and the body must
/// match (the same rules as docs/PROTOCOL.md: `"$name"` captures or must equal a captured value,
/// `"…"` matches anything). `$name` in a command is replaced by its captured value.
@Suite(.enabled(if: TestRedis.shouldRun))
struct HTTPDocTests {
    static let document = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("docs/HTTP.md")

    struct Example {
        var command: String
        var statusLine: String
        var headers: [(String, String)]
        var body: String
    }

    static func examples() throws -> [Example] {
        let text = try String(contentsOf: document, encoding: .utf8)
        var examples: [Example] = []
        for block in text.components(separatedBy: "```console\n").dropFirst() {
            let lines = block.components(separatedBy: "\n```")[0].components(separatedBy: "\n")
            guard lines.count >= 2, lines[0].hasPrefix("$ curl ") else { continue }
            var headers: [(String, String)] = []
            var index = 2
            while index < lines.count, !lines[index].isEmpty {
                let parts = lines[index].split(separator: ":", maxSplits: 1).map(String.init)
                headers.append((parts[0].lowercased(), parts.count > 1 ? parts[1].trimmingCharacters(in: .whitespaces) : ""))
                index += 1
            }
            examples.append(Example(command: String(lines[0].dropFirst(2)), statusLine: lines[1], headers: headers,
                                    body: lines.dropFirst(index + 1).joined(separator: "\n")))
        }
        return examples
    }

    @Test func theHTTPDocumentsCurlExamplesAreWhatTheServerAnswers() async throws {
        let examples = try Self.examples()
        #expect(examples.count >= 20, "the document's examples were found")
        let server = try await TestServer()
        defer { Task { await server.stop() } }
        var captured: [String: Any] = [:]
        var problems: [String] = []
        for example in examples {
            var command = example.command.replacingOccurrences(of: "localhost:7481", with: "127.0.0.1:\(server.httpPort)")
            for (name, value) in captured.sorted(by: { $0.key.count > $1.key.count }) {
                command = command.replacingOccurrences(of: "$" + name, with: "\(value)")
            }
            let output = try Self.run(command)
            let (head, body) = Self.split(output)
            let label = String(example.command.prefix(70))
            guard let statusLine = head.first, statusLine == example.statusLine else {
                problems.append("\(label)…: status \(head.first ?? "none") instead of \(example.statusLine)")
                continue
            }
            var headers: [String: String] = [:]
            for line in head.dropFirst() {
                let parts = line.split(separator: ":", maxSplits: 1).map(String.init)
                if parts.count == 2 { headers[parts[0].lowercased()] = parts[1].trimmingCharacters(in: .whitespaces) }
            }
            for (name, expected) in example.headers {
                guard let actual = headers[name] else { problems.append("\(label)…: no \(name) header"); continue }
                if let problem = Self.matchValue(expected, actual, &captured) { problems.append("\(label)…: \(name): \(problem)") }
            }
            guard !example.body.isEmpty else { continue }
            guard let pattern = try? JSONSerialization.jsonObject(with: Data(example.body.utf8)),
                  let answer = try? JSONSerialization.jsonObject(with: Data(body.utf8)) else {
                problems.append("\(label)…: the body is not JSON: \(body.prefix(200))")
                continue
            }
            if let problem = matchExample(pattern, answer, &captured, path: "") { problems.append("\(label)…: \(problem)") }
        }
        #expect(problems.isEmpty, "\(problems.joined(separator: "\n"))")
    }

    /// A header value: literal, or with one `$name` in it (captured, or equal to the capture).
    static func matchValue(_ expected: String, _ actual: String, _ captured: inout [String: Any]) -> String? {
        guard let dollar = expected.firstIndex(of: "$") else { return expected == actual ? nil : "\(actual) instead of \(expected)" }
        let prefix = String(expected[..<dollar])
        let name = String(expected[expected.index(after: dollar)...].prefix { $0.isLetter || $0.isNumber })
        let suffix = String(expected[expected.index(dollar, offsetBy: 1 + name.count)...])
        guard actual.hasPrefix(prefix), actual.hasSuffix(suffix), actual.count >= prefix.count + suffix.count else {
            return "\(actual) does not fit \(expected)"
        }
        let value = String(actual.dropFirst(prefix.count).dropLast(suffix.count))
        if let known = captured[name] { return "\(known)" == value ? nil : "\(name) is \(value), was \(known)" }
        captured[name] = value
        return nil
    }

    /// The status line and headers, and the body, of curl's `-si` output (100 Continue skipped).
    static func split(_ output: String) -> (head: [String], body: String) {
        var rest = output
        while true {
            guard let end = rest.range(of: "\r\n\r\n") else { return (rest.components(separatedBy: "\r\n"), "") }
            let head = rest[..<end.lowerBound].components(separatedBy: "\r\n")
            rest = String(rest[end.upperBound...])
            if head.first?.hasPrefix("HTTP/1.1 100") == true { continue }
            return (head, rest)
        }
    }

    static func run(_ command: String) throws -> String {
        try ChildProcess.output(["/bin/sh", "-c", command]).stdout
    }
}

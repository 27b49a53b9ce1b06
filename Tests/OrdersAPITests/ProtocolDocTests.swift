import Foundation
import Testing
import TestSupport

/// Runs the session in docs/PROTOCOL.md against a real server: every `→` line is sent, every `←`
/// line must match the answer (same keys; `"$name"` captures or must equal a remembered value;
/// `"…"` matches anything), so the document cannot drift from the server.
@Suite(.enabled(if: TestRedis.shouldRun))
struct ProtocolDocTests {
    static let document = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("docs/PROTOCOL.md")

    @Test func theProtocolDocumentsExamplesAreWhatTheServerAnswers() async throws {
        let text = try String(contentsOf: Self.document, encoding: .utf8)
        let lines = text.split(separator: "\n").map(String.init)
        let exchanges = lines.indices.compactMap { index -> (String, String)? in
            guard lines[index].hasPrefix("→ "), index + 1 < lines.count, lines[index + 1].hasPrefix("← ") else { return nil }
            return (String(lines[index].dropFirst(2)), String(lines[index + 1].dropFirst(2)))
        }
        #expect(exchanges.count >= 25, "the document's examples were found")
        #expect(exchanges.count == lines.filter { $0.hasPrefix("→ ") }.count, "every request has its answer")

        let server = try await TestServer()
        defer { Task { await server.stop() } }
        let mismatches = try await onThreads(1) { _ -> [String] in
            let client = try server.client()
            var captured: [String: Any] = [:]
            var mismatches: [String] = []
            for (request, expected) in exchanges {
                var line = request
                for (name, value) in captured { line = line.replacingOccurrences(of: "$" + name, with: "\(value)") }
                try client.sendRaw(Array(line.utf8) + [0x0a])
                let answer = try JSONSerialization.jsonObject(with: Data(try client.receiveLine()!))
                let pattern = try JSONSerialization.jsonObject(with: Data(expected.utf8))
                if let problem = matchExample(pattern, answer, &captured, path: "") {
                    mismatches.append("\(request.prefix(60))…: \(problem)")
                }
            }
            return mismatches
        }
        #expect(mismatches[0].isEmpty, "\(mismatches[0].joined(separator: "\n"))")
    }
}

/// Nil when `answer` matches `pattern` (a documented example: `"…"` matches anything, `"$name"`
/// captures or must equal a captured value), else where and how it differs.
func matchExample(_ pattern: Any, _ answer: Any, _ captured: inout [String: Any], path: String) -> String? {
    if let text = pattern as? String {
        if text == "…" { return nil }
        if text.hasPrefix("$") {
            let name = String(text.dropFirst())
            if let known = captured[name] {
                return "\(known)" == "\(answer)" ? nil : "\(path): expected \(name)=\(known), got \(answer)"
            }
            captured[name] = answer
            return nil
        }
    }
    if let object = pattern as? [String: Any] {
        guard let actual = answer as? [String: Any] else { return "\(path): expected an object, got \(answer)" }
        guard Set(object.keys) == Set(actual.keys) else {
            return "\(path): keys \(actual.keys.sorted()) instead of \(object.keys.sorted())"
        }
        for (key, value) in object {
            if let problem = matchExample(value, actual[key]!, &captured, path: path + "." + key) { return problem }
        }
        return nil
    }
    if let list = pattern as? [Any] {
        guard let actual = answer as? [Any], actual.count == list.count else { return "\(path): expected \(list.count) elements, got \(answer)" }
        for (index, element) in list.enumerated() {
            if let problem = matchExample(element, actual[index], &captured, path: "\(path)[\(index)]") { return problem }
        }
        return nil
    }
    let same = (try? JSONSerialization.data(withJSONObject: [pattern], options: .sortedKeys))
        == (try? JSONSerialization.data(withJSONObject: [answer], options: .sortedKeys))
    return same ? nil : "\(path): expected \(pattern), got \(answer)"
}

import Foundation
import OrdersDomain

/// Structured log lines on stderr, one per event worth an operator's attention (start, stop,
/// errors), never one per request: `2026-11-22T18:45:01.123Z level=info event=server.started port=7480`.
public enum Log {
    public enum Level: String { case info, warning, error }

    public static func info(_ event: String, _ fields: KeyValuePairs<String, Any> = [:]) { write(.info, event, fields) }
    public static func warning(_ event: String, _ fields: KeyValuePairs<String, Any> = [:]) { write(.warning, event, fields) }
    public static func error(_ event: String, _ fields: KeyValuePairs<String, Any> = [:]) { write(.error, event, fields) }

    private static func write(_ level: Level, _ event: String, _ fields: KeyValuePairs<String, Any>) {
        var line = "\(Timestamp.now()) level=\(level.rawValue) event=\(event)"
        for (key, value) in fields {
            let text = "\(value)"
            let needsQuotes = text.isEmpty || text.contains(where: { $0 == " " || $0 == "\"" || $0 == "=" })
            line += " \(key)=" + (needsQuotes ? "\"" + text.replacingOccurrences(of: "\"", with: "\\\"") + "\"" : text)
        }
        line += "\n"
        FileHandle.standardError.write(Data(line.utf8))
    }
}

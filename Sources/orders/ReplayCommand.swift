import Foundation
import OrdersAPI
import OrdersReadSide

/// `orders replay`: asks the server to replay, then follows it: a progress bar with events done of
/// total, rate and ETA on a terminal, a plain line every 2 s otherwise. It returns as soon as the
/// result is live: a rebuild once it has switched (dropping the replaced generations goes on in
/// the background, shown by `--status`). It learns of that from the server within ~10 ms
/// (`replayStatus` with `waitMs`/`untilPhase`), not by polling on a timer. `--status` and
/// `--cancel` look at or stop the running replay.
enum ReplayCommand {
    static func run(_ arguments: Arguments) throws {
        let client = try ClientCommands.connect(arguments)
        if arguments.flag("cancel") {
            _ = try client.call("cancelReplay")
            print("cancel requested; the live read models stay as they are")
            return
        }
        if arguments.flag("status") {
            let status = try client.call("replayStatus") as? [String: Any] ?? [:]
            print(status.isEmpty ? "no replay has run" : line(status))
            return
        }
        var request: [String: Any] = [:]
        if let projection = arguments.option("projection") { request["projection"] = projection }
        if let from = arguments.option("from") { request["from"] = wireTime(from) }
        if let orderId = arguments.option("order") { request["orderId"] = orderId }
        let started = try client.call("replay", request) as? [String: Any] ?? [:]
        let id = started["id"] as? String
        let terminal = isatty(STDOUT_FILENO) == 1
        var lastPrinted = Date.distantPast
        let live = ReplayStatus.Phase.allCases.filter(\.isLive).map(\.rawValue)
        while true {
            let status = try client.call("replayStatus", ["waitMs": terminal ? 500 : 2000, "untilPhase": live]) as? [String: Any] ?? [:]
            let phase = status["phase"] as? String ?? "?"
            let finished = live.contains(phase) && status["id"] as? String == id
            if terminal {
                // Written straight to the terminal: print's buffer would hold the bar until a newline.
                FileHandle.standardOutput.write(Data(("\r\u{1B}[K" + bar(status) + (finished ? "\n" : "")).utf8))
            } else if finished || Date().timeIntervalSince(lastPrinted) >= 2 {
                print(line(status))
                lastPrinted = Date()
            }
            if finished {
                if phase == "failed" { throw UsageError("the replay failed: \(status["error"] ?? "")") }
                if phase == "cancelled" { print("cancelled; the live read models are as they were") }
                if phase == "cleaning" { print("the new read models are live; the replaced generations are being dropped (orders replay --status)") }
                return
            }
        }
    }

    static func line(_ status: [String: Any]) -> String {
        let done = status["done"] as? Int ?? 0, total = status["total"] as? Int ?? 0
        var text = "replay \(status["id"] ?? "") \(status["kind"] ?? "") \(status["phase"] ?? ""): \(done)/\(total)"
        if let rate = status["ratePerSecond"] as? Double, rate > 0 { text += String(format: ", %.0f/s", rate) }
        if let error = status["error"] as? String, !error.isEmpty { text += " — \(error)" }
        return text
    }

    static func bar(_ status: [String: Any]) -> String {
        let done = status["done"] as? Int ?? 0, total = max(1, status["total"] as? Int ?? 0)
        let width = 30
        let filled = min(width, done * width / total)
        let rate = status["ratePerSecond"] as? Double ?? 0
        let eta = rate > 0 ? String(format: " ETA %.0fs", Double(max(0, total - done)) / rate) : ""
        return "[" + String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled) + "] "
            + "\(done)/\(total) \(status["phase"] ?? "")" + (rate > 0 ? String(format: " %.0f/s", rate) : "") + eta
    }
}

import OrdersDomain
import RedisClient

/// Trims the log (the bus) behind its readers. Every event stays in its order's stream for good;
/// a log entry only references it, and once every consumer group has applied it, it serves
/// nothing but a fast `replay --from` over the recent past. So the log keeps:
/// - every entry some consumer group has not yet applied (from a group's oldest pending entry,
///   or its last delivered one when nothing is pending), whatever its age;
/// - every entry younger than `window`;
/// and nothing at all is trimmed while the log has no consumer group (a group created later at
/// the log's start must find every entry).
///
/// Groups are only ever created at the log's head (a rebuild creates its generation's group
/// before it folds), so one created between the measure and the trim never needs what is trimmed.
/// Trimming is `XTRIM MINID ~`: whole listpack nodes only, cheap for Redis. Any number of
/// instances may trim; the result is the same.
public struct LogRetention: Sendable {
    public let log: EventLog
    public let window: Duration
    public let interval: Duration

    public init(log: EventLog, window: Duration, interval: Duration = .seconds(10)) {
        self.log = log
        self.window = window
        self.interval = interval
    }

    /// Trims until the task is cancelled; a failed trim (Redis down) waits for the next turn.
    public func run() async {
        while !Task.isCancelled {
            do {
                try await trim()
            } catch {
                Log.warning("log.trim_failed", ["error": error])
            }
            try? await Task.sleep(for: interval)
        }
    }

    /// Trims up to the trim point; returns how many entries went. `XTRIM … ~` removes at most
    /// 100 nodes' entries a call (its default LIMIT, so that no call holds Redis up for long):
    /// a backlog of old entries goes in several calls.
    @discardableResult
    public func trim(now: Timestamp = .now()) async throws -> Int {
        guard let point = try await trimPoint(now: now) else { return 0 }
        var removed = 0
        while true {
            let count = try await log.redis.send("XTRIM", log.keys.log, "MINID", "~", point.description).int ?? 0
            removed += count
            if count == 0 || Task.isCancelled { return removed }
        }
    }

    /// The oldest position the log must keep, or nil when nothing may be trimmed.
    public func trimPoint(now: Timestamp = .now()) async throws -> LogPosition? {
        let groups: RedisValue
        do {
            groups = try await log.redis.send("XINFO", "GROUPS", log.keys.log)
        } catch RedisError.server(let message) where message.hasPrefix("ERR no such key") {
            return nil  // a new store: no log yet, nothing to trim
        }
        var names: [String] = []
        var oldest = LogPosition(atOrAfter: Timestamp(milliseconds: now.milliseconds - window.milliseconds))
        for group in groups.array ?? [] {
            let fields = group.fieldValues
            guard let name = fields["name"]?.string,
                  let delivered = fields["last-delivered-id"]?.string.flatMap({ LogPosition($0) }) else { return nil }
            names.append(name)
            oldest = min(oldest, delivered)
        }
        guard !names.isEmpty else { return nil }
        // A group's pending entries are older than its last delivered one: the oldest of them.
        let pending = try await log.redis.pipeline(names.map { RedisCommand("XPENDING", log.keys.log, $0) })
        for reply in pending {
            if let first = reply.array?.dropFirst().first?.string.flatMap({ LogPosition($0) }) { oldest = min(oldest, first) }
        }
        return oldest
    }
}

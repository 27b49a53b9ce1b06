import RedisClient
import OrdersDomain
import OrdersEventLog

/// How far one projection's consumer group is behind the log, as `projectionStatus` reports it.
public struct ProjectionStatus: Sendable, Hashable {
    public var projection: String
    public var group: String
    public var generation: Int
    /// The last log entry handed to a consumer (applied or still pending).
    public var lastDelivered: LogPosition?
    /// Log entries not yet delivered to any consumer.
    public var lagEvents: Int
    /// Age of the oldest entry not yet applied (pending or undelivered), in milliseconds; 0 when caught up.
    public var lagMilliseconds: Int64
    public var pending: Int
    public var consumers: Int
    public var deadLettered: Int
}

/// Reads consumer-group state: projection status, and whether a projection has passed a position.
public struct ProjectionMonitor: Sendable {
    public let log: EventLog

    public init(log: EventLog) { self.log = log }

    public static func group(_ projection: String, generation: Int) -> String { "view:\(projection):g\(generation)" }

    /// True when every entry up to `position` has been applied: the generation's checkpoint (the
    /// last position a committed batch reached) is at or past it.
    public func hasPassed(_ position: LogPosition, projection: String, generation: Int) async throws -> Bool {
        let view = ViewKeys(keys: log.keys, projection: projection, generation: generation)
        guard let checkpoint = try await log.redis.send("GET", view.checkpoint).string.flatMap({ LogPosition($0) }) else { return false }
        return checkpoint >= position
    }

    public func status(projection: String, generation: Int) async throws -> ProjectionStatus {
        let group = Self.group(projection, generation: generation)
        let replies = try await log.redis.pipeline([
            RedisCommand("XINFO", "GROUPS", log.keys.log),
            RedisCommand("XPENDING", log.keys.log, group, "-", "+", 1),
            RedisCommand("HGET", log.keys.deadLetterCounts, projection),
        ])
        let info = try groupInfo(Self.groupsReply(replies[0]), group: group) ?? [:]
        let lastDelivered = info["last-delivered-id"]?.string.flatMap { LogPosition($0) }
        let lag = try await undelivered(after: info, upTo: Self.statusCountLimit)
        var oldest: LogPosition?
        if case .array(let pending) = replies[1], let first = pending.first?.array?.first?.string {
            oldest = LogPosition(first)
        } else if lag > 0 {
            let next = try await log.readLog(after: lastDelivered, limit: 1)
            oldest = next.first?.position
        }
        let age = oldest.map { max(0, Timestamp.now().milliseconds - Int64($0.milliseconds)) } ?? 0
        return ProjectionStatus(projection: projection, group: group, generation: generation, lastDelivered: lastDelivered,
                                lagEvents: lag, lagMilliseconds: age, pending: info["pending"]?.int ?? 0,
                                consumers: info["consumers"]?.int ?? 0, deadLettered: replies[2].int ?? 0)
    }

    /// Log entries not yet read by the consumer group of each live generation, the most of any
    /// projection: how far the read models are behind the writes (entries read but not yet
    /// acknowledged are not counted: a dead consumer's wait for its claim is not a backlog).
    ///
    /// Counted up to `limit` (the throttle needs to know only whether its bound is passed).
    public func backlog(live: [String: Int], upTo limit: Int) async throws -> Int {
        let groups = Self.groups(try Self.groupsReply(try await log.redis.pipeline([RedisCommand("XINFO", "GROUPS", log.keys.log)])[0]))
        var most = 0
        for (projection, generation) in live {
            guard let info = groups[Self.group(projection, generation: generation)] else { continue }
            most = max(most, try await undelivered(after: info, upTo: limit))
        }
        return most
    }

    /// How many entries `status` counts behind a group before it takes XINFO's figure.
    static let statusCountLimit = 1000

    /// Log entries after the group's last delivered one: counted exactly up to `limit`, past it
    /// XINFO's `lag` (or `limit` when Redis cannot tell). XINFO's `lag` alone is not trusted:
    /// Redis 7.0 estimates a group's read counter again after it loads its AOF, and the estimate
    /// can stay thousands off for good (seen in the outage soak: `lag 2983` for a group at the
    /// log's head, which held every command back for the rest of the run).
    private func undelivered(after info: [String: RedisValue], upTo limit: Int) async throws -> Int {
        let lag = info["lag"]?.int
        if let lag, lag <= 1 { return lag }
        let start = info["last-delivered-id"]?.string.map { $0 == "0-0" ? "-" : "(" + $0 } ?? "-"
        let counted = (try await log.redis.send("XRANGE", log.keys.log, start, "+", "COUNT", max(1, limit)).array ?? []).count
        return counted < limit ? counted : max(counted, lag ?? counted)
    }

    /// The named group's fields from XINFO GROUPS, or nil when it does not exist yet.
    private func groupInfo(_ reply: RedisValue, group: String) throws -> [String: RedisValue]? {
        Self.groups(reply)[group]
    }

    /// XINFO GROUPS' reply, or none for a log that does not exist yet (a new store, before its
    /// first write or its projectors' first start: nothing to be behind on).
    private static func groupsReply(_ reply: RedisValue) throws -> RedisValue {
        if case .error(let message) = reply, message.hasPrefix("ERR no such key") { return .array([]) }
        return try reply.orThrow()
    }

    /// XINFO GROUPS' reply: each group's fields, by the group's name.
    private static func groups(_ reply: RedisValue) -> [String: [String: RedisValue]] {
        var groups: [String: [String: RedisValue]] = [:]
        for entry in reply.array ?? [] {
            let fields = entry.fieldValues
            if let name = fields["name"]?.string { groups[name] = fields }
        }
        return groups
    }
}

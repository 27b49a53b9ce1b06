import RedisClient
import OrdersDomain
import OrdersEventLog

/// The dead-letter stream: log entries a projector gave up on, listed and re-driven.
public struct DeadLetters: Sendable {
    public let log: EventLog

    public init(log: EventLog) { self.log = log }

    public struct Letter: Sendable, Hashable {
        /// The dead-letter entry's own id.
        public var id: String
        public var projection: String
        /// The log entry that failed.
        public var logId: String
        public var attempts: Int
        public var error: String
        public var at: String
    }

    public func list(limit: Int = 100) async throws -> [Letter] {
        let reply = try await log.redis.send("XRANGE", log.keys.deadLetter, "-", "+", "COUNT", max(1, limit))
        return (reply.array ?? []).compactMap { entry in
            guard let pair = entry.array, pair.count == 2, let id = pair[0].string else { return nil }
            let fields = pair[1].fields
            return Letter(id: id, projection: fields["projection"] ?? "", logId: fields["logId"] ?? "",
                          attempts: Int(fields["attempts"] ?? "") ?? 0, error: fields["error"] ?? "", at: fields["at"] ?? "")
        }
    }

    /// Applies `letter`'s log entry again with `projector` (after the cause was fixed: a build that
    /// knows the event, a repaired order). On success the letter is removed and true returned;
    /// otherwise it stays where it is.
    public func redrive<P: Projection>(_ letter: Letter, with projector: Projector<P>) async throws -> Bool {
        guard letter.projection == P.name else { return false }
        let reply = try await log.redis.send("XRANGE", log.keys.log, letter.logId, letter.logId)
        guard let entry = try await LogEntry.entries(of: reply, in: log).first,
              case .success(let event) = entry.event else { return false }
        try await projector.process([entry])
        let (version, _) = try projector.projection.parse(
            try await log.redis.send(projector.projection.readCommand(for: event.orderId, in: projector.view)))
        guard version >= event.version else { return false }
        _ = try await log.redis.pipeline([
            RedisCommand("XDEL", log.keys.deadLetter, letter.id),
            RedisCommand("HINCRBY", log.keys.deadLetterCounts, P.name, -1),
        ])
        return true
    }
}

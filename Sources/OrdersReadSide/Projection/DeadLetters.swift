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
        /// The order and version of the event (empty and 0 in letters written before they were
        /// named: the log entry names them).
        public var orderId: String = ""
        public var version: Int = 0
        /// The order's version the projection reflected when the letter was written.
        public var fromVersion: Int?
    }

    public func list(limit: Int = 100) async throws -> [Letter] {
        let reply = try await log.redis.send("XRANGE", log.keys.deadLetter, "-", "+", "COUNT", max(1, limit))
        return (reply.array ?? []).compactMap { entry in
            guard let pair = entry.array, pair.count == 2, let id = pair[0].string else { return nil }
            let fields = pair[1].fields
            return Letter(id: id, projection: fields["projection"] ?? "", logId: fields["logId"] ?? "",
                          attempts: Int(fields["attempts"] ?? "") ?? 0, error: fields["error"] ?? "", at: fields["at"] ?? "",
                          orderId: fields["orderId"] ?? "", version: Int(fields["version"] ?? "") ?? 0,
                          fromVersion: Int(fields["fromVersion"] ?? ""))
        }
    }

    /// Applies `letter`'s order again to `projection`'s generation (after the cause was fixed: a
    /// build that knows the event, a repaired key): from the version the model reflects for the
    /// order (`fromVersion`) to the fold of its events up to the checkpoint. When that reaches
    /// the letter's event, the write commits with the removal of every letter of that order and
    /// projection it covers, fenced by the checkpoint (a batch committed meanwhile makes it read
    /// again), and true is returned; otherwise nothing changes.
    public func redrive<P: Projection>(_ letter: Letter, with projection: P, generation: Int,
                                       on connection: RedisClient? = nil) async throws -> Bool {
        guard letter.projection == P.name else { return false }
        var orderId = letter.orderId, version = letter.version
        if orderId.isEmpty {
            // A letter written before the letters named their order: the log entry does.
            let reply = try await log.redis.send("XRANGE", log.keys.log, letter.logId, letter.logId)
            guard let entry = reply.array?.first, case .reference(let named, let namedVersion, _)? =
                    try? EventLog.decodeLogRecord(entry, key: log.keys.log) else { return false }
            (orderId, version) = (named, namedVersion)
        }
        let fromVersion = letter.fromVersion ?? version - 1
        let redis = connection ?? log.redis.dedicated()
        defer { if connection == nil { redis.close() } }
        let letters = try await list(limit: 10_000).filter { $0.projection == P.name }
        let view = ViewKeys(keys: log.keys, projection: P.name, generation: generation)
        return try await CheckpointFence(view: view, redis: redis)
            .commit(giveUp: "order \(orderId) kept changing while its dead letters were redriven") { checkpoint in
                guard let checkpoint else { return nil }
                let events = try await log.events(of: orderId).filter { $0.position <= checkpoint }
                let held = projection.fold(Array(events.prefix { $0.version <= fromVersion }), from: 0, nil)
                let fresh = projection.fold(events, from: 0, nil)
                guard fresh.version >= version else { return nil }
                var batch = ProjectionBatch()
                projection.write(orderId, from: held.state, to: fresh.state, into: &batch, in: view)
                let covered = letters.filter { $0.id == letter.id || ($0.orderId == orderId && $0.version <= fresh.version) }
                return try await batch.resolved(on: redis).map(\.command)
                    + [RedisCommand("XDEL", [log.keys.deadLetter] + covered.map(\.id)),
                       RedisCommand("HINCRBY", log.keys.deadLetterCounts, P.name, -covered.count)]
            }
    }
}

import Foundation
import RedisClient

/// The write side's storage: one Redis stream per order plus the global log, appended to by
/// the `orders_append` function so that the version check, both XADDs and the command-id record
/// are one atomic step (see Redis/orders.lua).
public final class EventStore: Sendable {
    public let redis: RedisClient
    public let keys: KeySchema
    /// How long a command id is remembered for idempotent retries.
    public let commandRetention: Duration
    /// Largest `data` of one event, in bytes.
    public let maxEventBytes: Int
    /// Most events in one append.
    public static let maxEventsPerAppend = 100

    public init(redis: RedisClient, keys: KeySchema = KeySchema(), commandRetention: Duration = .seconds(86_400),
                maxEventBytes: Int = 1 << 20) {
        self.redis = redis
        self.keys = keys
        self.commandRetention = commandRetention
        self.maxEventBytes = maxEventBytes
    }

    // MARK: - Appending

    /// Appends `events` to the order's stream and the log if the order is at `expected`.
    /// With a `commandId` seen before (within `commandRetention`), writes nothing and returns the
    /// first append's result with `duplicate` set.
    public func append(orderId: String, expected: ExpectedVersion, events: [NewEvent],
                       commandId: String? = nil) async throws(EventStoreError) -> AppendResult {
        try validate(orderId: orderId, events: events, commandId: commandId)
        var keyList = [keys.stream(orderId), keys.log]
        if let commandId { keyList.append(keys.command(commandId)) }
        var arguments: [String] = ["FCALL", "orders_append", String(keyList.count)] + keyList
        arguments += [String(FunctionLibrary.version), expected.argument, orderId,
                      String(commandRetention.components.seconds * 1000), String(events.count)]
        for event in events {
            arguments += [event.type, event.eventId, event.occurredAt.description, event.data,
                          Self.encode(event.metadata)]
        }
        let reply: RedisValue
        do {
            reply = try await FunctionLibrary.call(RedisCommand(arguments: arguments.map { Array($0.utf8) }), on: redis)
        } catch {
            throw EventStoreError.from(error)
        }
        return try Self.appendResult(reply, orderId: orderId, expected: expected)
    }

    private func validate(orderId: String, events: [NewEvent], commandId: String?) throws(EventStoreError) {
        guard Identifier.isValid(orderId) else {
            throw .invalidAppend("order id '\(orderId.prefix(80))' must be 1-64 letters, digits, '-' or '_'")
        }
        if let commandId, !Identifier.isValid(commandId) {
            throw .invalidAppend("command id '\(commandId.prefix(80))' must be 1-64 letters, digits, '-' or '_'")
        }
        guard !events.isEmpty else { throw .invalidAppend("an append needs at least one event") }
        guard events.count <= Self.maxEventsPerAppend else {
            throw .invalidAppend("an append takes at most \(Self.maxEventsPerAppend) events, got \(events.count)")
        }
        for event in events where event.data.utf8.count > maxEventBytes {
            throw .invalidAppend("event \(event.type) is \(event.data.utf8.count) bytes; the limit is \(maxEventBytes)")
        }
        for event in events where event.type.isEmpty || event.eventId.isEmpty {
            throw .invalidAppend("every event needs a type and an event id")
        }
    }

    private static func appendResult(_ reply: RedisValue, orderId: String,
                                     expected: ExpectedVersion) throws(EventStoreError) -> AppendResult {
        guard let parts = reply.array, let kind = parts.first?.string else {
            throw .corrupt("orders_append returned \(reply)")
        }
        switch kind {
        case "conflict":
            guard parts.count == 2, let actual = parts[1].int else { throw .corrupt("orders_append returned \(reply)") }
            throw .concurrencyConflict(orderId: orderId, expected: expected, actual: actual)
        case "appended", "duplicate":
            guard parts.count >= 4, let firstOrderId = parts[1].string, let version = parts[2].int else {
                throw .corrupt("orders_append returned \(reply)")
            }
            var positions: [LogPosition] = []
            for part in parts[3...] {
                guard let text = part.string, let position = LogPosition(text) else {
                    throw .corrupt("orders_append returned a bad position \(part)")
                }
                positions.append(position)
            }
            return AppendResult(orderId: firstOrderId, version: version, positions: positions,
                                duplicate: kind == "duplicate")
        default:
            throw .corrupt("orders_append returned \(reply)")
        }
    }

    /// The result recorded for `commandId` by an earlier append, or nil when the id is unknown or
    /// has expired. Lets a handler answer a retried command before re-deciding it against a state
    /// that the first attempt already changed.
    public func recordedResult(commandId: String) async throws(EventStoreError) -> AppendResult? {
        guard Identifier.isValid(commandId) else { return nil }
        let reply: RedisValue
        do {
            reply = try await redis.send("GET", keys.command(commandId))
        } catch {
            throw EventStoreError.from(error)
        }
        guard let text = reply.string else { return nil }
        // The function stores its reply without the leading kind: [orderId, version, position…].
        guard let parts = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [Any], parts.count >= 3,
              let orderId = parts[0] as? String, let version = (parts[1] as? NSNumber)?.intValue else {
            throw .corrupt("command record \(commandId) is unreadable: \(text.prefix(200))")
        }
        let positions = parts[2...].compactMap { ($0 as? String).flatMap { LogPosition($0) } }
        guard positions.count == parts.count - 2 else { throw .corrupt("command record \(commandId) has a bad position") }
        return AppendResult(orderId: orderId, version: version, positions: positions, duplicate: true)
    }

    // MARK: - Reading one order

    /// The order's number of events (0 when it has none). The stream is never trimmed, so its
    /// length is its version.
    public func version(of orderId: String) async throws(EventStoreError) -> Int {
        do {
            return try await redis.send("XLEN", keys.stream(orderId)).int ?? 0
        } catch {
            throw EventStoreError.from(error)
        }
    }

    /// Every event of one order after `position` (from the first when nil) and up to `until`
    /// (inclusive, to its millisecond) when given, read page by page so a long stream never
    /// arrives as one giant reply.
    public func events(of orderId: String, after position: LogPosition? = nil, until: Timestamp? = nil,
                       pageSize: Int = 500) async throws(EventStoreError) -> [RecordedEvent] {
        // Nothing is older than the epoch (and a negative time is no stream id).
        if let until, until.milliseconds < 0 { return [] }
        var all: [RecordedEvent] = []
        var cursor = position
        let end = until.map { "\($0.milliseconds)-\(UInt64.max)" } ?? "+"
        while true {
            let page = try await range(keys.stream(orderId), orderId: orderId,
                                       start: cursor.map { "(\($0)" } ?? "-", end: end, limit: pageSize)
            all += page
            guard page.count == pageSize, let last = page.last else { return all }
            cursor = last.position
        }
    }

    // MARK: - Reading the log

    /// Up to `limit` log entries after `position` (from the start when nil), in commit order.
    public func readLog(after position: LogPosition?, limit: Int = 1000) async throws(EventStoreError) -> [RecordedEvent] {
        try await range(keys.log, orderId: nil, start: position.map { "(\($0)" } ?? "-", end: "+", limit: limit)
    }

    /// Up to `limit` log entries committed at or after `time`.
    public func readLog(from time: Timestamp, limit: Int = 1000) async throws(EventStoreError) -> [RecordedEvent] {
        try await range(keys.log, orderId: nil, start: LogPosition(atOrAfter: time).description, end: "+", limit: limit)
    }

    /// The position of the newest log entry, or nil when the log is empty.
    public func lastPosition() async throws(EventStoreError) -> LogPosition? {
        do {
            let reply = try await redis.send("XREVRANGE", keys.log, "+", "-", "COUNT", 1)
            guard let entry = reply.array?.first?.array, let id = entry.first?.string else { return nil }
            return LogPosition(id)
        } catch {
            throw EventStoreError.from(error)
        }
    }

    private func range(_ key: String, orderId: String?, start: String, end: String,
                       limit: Int) async throws(EventStoreError) -> [RecordedEvent] {
        let reply: RedisValue
        do {
            reply = try await redis.send("XRANGE", key, start, end, "COUNT", max(1, limit))
        } catch {
            throw EventStoreError.from(error)
        }
        guard let entries = reply.array else { throw .corrupt("XRANGE \(key) returned \(reply)") }
        var events: [RecordedEvent] = []
        events.reserveCapacity(entries.count)
        for entry in entries {
            events.append(try Self.decodeEntry(entry, orderId: orderId, key: key))
        }
        return events
    }

    /// Reads one stream entry (`[id, [field, value, …]]`) back into a `RecordedEvent`.
    static func decodeEntry(_ entry: RedisValue, orderId: String?, key: String) throws(EventStoreError) -> RecordedEvent {
        guard let pair = entry.array, pair.count == 2, let id = pair[0].string,
              let position = LogPosition(id), let list = pair[1].array else {
            throw .corrupt("malformed entry in \(key): \(entry)")
        }
        // Fields by name into locals: a dictionary per entry was a tenth of a rebuild's reading.
        var type: String?, versionText: String?, eventId: String?, occurredText: String?
        var data: String?, metaText: String?, entryOrderId: String?
        var index = 0
        while index + 1 < list.count {
            let value = list[index + 1].string ?? ""
            switch list[index].string {
            case "type": type = value
            case "version": versionText = value
            case "eventId": eventId = value
            case "occurredAt": occurredText = value
            case "data": data = value
            case "meta": metaText = value
            case "orderId": entryOrderId = value
            default: break
            }
            index += 2
        }
        guard let type, let versionText, let version = Int(versionText), let eventId, let occurredText,
              let occurredAt = Timestamp(parsing: occurredText), let data, let metaText,
              let order = orderId ?? entryOrderId else {
            throw .corrupt("entry \(id) in \(key) lacks a field or has a malformed one")
        }
        return RecordedEvent(orderId: order, type: type, version: version, eventId: eventId,
                             occurredAt: occurredAt, data: data, meta: metaText, position: position)
    }

    /// The `meta` field: JSON with sorted keys, nil fields left out (as JSONEncoder wrote it).
    static func encode(_ metadata: EventMetadata) -> String {
        var json = JSONWriter()
        json.raw("{")
        var first = true
        for (name, value) in [("causationId", metadata.causationId), ("commandId", metadata.commandId),
                              ("correlationId", metadata.correlationId)] {
            guard let value else { continue }
            json.key(name, first: first)
            json.string(value)
            first = false
        }
        json.key("schemaVersion", first: first)
        json.raw(String(metadata.schemaVersion))
        json.raw("}")
        return json.text
    }
}

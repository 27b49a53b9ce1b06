import Foundation
import OrdersDomain
import RedisClient

/// The log-reading part of the store, shared by both sides: one order's stream, the global log
/// and its head. The write side appends through `EventStore`; the read side only ever reads
/// through this (and writes only its own read-model keys).
public final class EventLog: Sendable {
    public let redis: RedisClient
    public let keys: KeySchema

    public init(redis: RedisClient, keys: KeySchema = KeySchema()) {
        self.redis = redis
        self.keys = keys
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

    /// The whole streams of several orders, in one pipelined round trip (a stream longer than a
    /// page is read on page by page).
    public func histories(of orderIds: [String], page: Int = 10_000) async throws(EventStoreError) -> [String: [RecordedEvent]] {
        let replies: [RedisValue]
        do {
            replies = try await redis.pipeline(orderIds.map { RedisCommand("XRANGE", keys.stream($0), "-", "+", "COUNT", page) })
        } catch {
            throw EventStoreError.from(error)
        }
        var histories: [String: [RecordedEvent]] = [:]
        for (orderId, reply) in zip(orderIds, replies) {
            guard let entries = reply.array else { throw .corrupt("XRANGE \(keys.stream(orderId)) returned \(reply)") }
            var events: [RecordedEvent] = []
            events.reserveCapacity(entries.count)
            for entry in entries { events.append(try Self.decodeEntry(entry, orderId: orderId, key: keys.stream(orderId))) }
            if events.count == page, let last = events.last?.position {
                events += try await self.events(of: orderId, after: last)
            }
            histories[orderId] = events
        }
        return histories
    }

    /// One step of a walk over every order that has a stream: the ids in one SCAN batch and the
    /// cursor to go on from ("0" when the walk is over). Like SCAN, a walk may name an order twice.
    /// On a cluster whose slot for these keys moved to another master mid-walk, the walk starts
    /// over there (the old cursor means nothing on the new node): more orders named twice, none
    /// missed.
    public func orderStreams(from cursor: String, count: Int = 1000) async throws(EventStoreError) -> (next: String, orderIds: [String]) {
        let reply: RedisValue
        func scan(_ cursor: String) async throws -> RedisValue {
            try await redis.send("SCAN", cursor, "MATCH", keys.prefix + "stream:*", "COUNT", count, "TYPE", "stream")
        }
        do {
            do {
                reply = try await scan(cursor)
            } catch RedisError.scanInterrupted {
                reply = try await scan("0")
            }
        } catch {
            throw EventStoreError.from(error)
        }
        guard let parts = reply.array, parts.count == 2, let next = parts[0].string else { throw .corrupt("SCAN returned \(reply)") }
        let streamPrefix = keys.prefix + "stream:"
        let ids = (parts[1].array ?? []).compactMap(\.string).filter { $0.hasPrefix(streamPrefix) }.map { String($0.dropFirst(streamPrefix.count)) }
        return (next, ids)
    }

    // MARK: - Reading the log

    /// The events of up to `limit` log entries after `position` (from the start when nil), in
    /// commit order.
    public func readLog(after position: LogPosition?, limit: Int = 1000) async throws(EventStoreError) -> [RecordedEvent] {
        try await logRange(start: position.map { "(\($0)" } ?? "-", limit: limit)
    }

    /// Which order each of up to `limit` log entries after `position` (or at or after `time`)
    /// belongs to, and the entry's position: what the log itself holds, without reading the
    /// events from the order streams.
    public func logOrders(after position: LogPosition? = nil, from time: Timestamp? = nil,
                          limit: Int = 1000) async throws(EventStoreError) -> [(position: LogPosition, orderId: String)] {
        let start = position.map { "(\($0)" } ?? time.map { LogPosition(atOrAfter: $0).description } ?? "-"
        return try await logRecords(start: start, limit: limit).map { record in
            switch record {
            case .event(let event): return (event.position, event.orderId)
            case .reference(let orderId, _, let position): return (position, orderId)
            }
        }
    }

    private func logRange(start: String, limit: Int) async throws(EventStoreError) -> [RecordedEvent] {
        let records = try await logRecords(start: start, limit: limit)
        return try await resolve(records.map { .success($0) }).map { result throws(EventStoreError) in try result.get() }
    }

    private func logRecords(start: String, limit: Int) async throws(EventStoreError) -> [LogRecord] {
        let reply: RedisValue
        do {
            reply = try await redis.send("XRANGE", keys.log, start, "+", "COUNT", max(1, limit))
        } catch {
            throw EventStoreError.from(error)
        }
        guard let entries = reply.array else { throw .corrupt("XRANGE \(keys.log) returned \(reply)") }
        var records: [LogRecord] = []
        records.reserveCapacity(entries.count)
        for entry in entries { records.append(try Self.decodeLogRecord(entry, key: keys.log)) }
        return records
    }

    // MARK: - Log entries: references to the order streams

    /// What one log entry holds. The log is the bus: since library version 6 an entry names its
    /// event (order, version, type) and the event itself is in the order's stream under the same
    /// id, so every event is stored once; entries written before carry the whole event.
    package enum LogRecord: Sendable {
        case event(RecordedEvent)
        case reference(orderId: String, version: Int, position: LogPosition)
    }

    package static func decodeLogRecord(_ entry: RedisValue, key: String) throws(EventStoreError) -> LogRecord {
        guard let pair = entry.array, pair.count == 2, let id = pair[0].string,
              let position = LogPosition(id), let list = pair[1].array else {
            throw .corrupt("malformed entry in \(key): \(entry)")
        }
        var orderId: String?, version: Int?, hasData = false
        for index in stride(from: 0, to: list.count - 1, by: 2) {
            switch list[index].string {
            case "orderId": orderId = list[index + 1].string
            case "version": version = list[index + 1].string.flatMap { Int($0) }
            case "data": hasData = true
            default: break
            }
        }
        if hasData { return .event(try decodeEntry(entry, orderId: nil, key: key)) }
        guard let orderId, Identifier.isValid(orderId), let version else {
            throw .corrupt("entry \(id) in \(key) names no order and version")
        }
        return .reference(orderId: orderId, version: version, position: position)
    }

    /// The events the records name, read from their orders' streams: one XRANGE per order (from
    /// its first to its last position among the records), all in one pipelined round trip. A
    /// reference its stream does not hold is a failure of its own; an outage throws.
    package func resolve(_ records: [Result<LogRecord, EventStoreError>]) async throws(EventStoreError)
        -> [Result<RecordedEvent, EventStoreError>] {
        var spans: [String: (first: LogPosition, last: LogPosition)] = [:]
        for case .success(.reference(let orderId, _, let position)) in records {
            let span = spans[orderId] ?? (position, position)
            spans[orderId] = (min(span.first, position), max(span.last, position))
        }
        var found: [LogPosition: RecordedEvent] = [:]
        if !spans.isEmpty {
            let orders = Array(spans.keys)
            let replies: [RedisValue]
            do {
                replies = try await redis.pipeline(orders.map {
                    RedisCommand("XRANGE", keys.stream($0), spans[$0]!.first.description, spans[$0]!.last.description)
                })
            } catch {
                throw EventStoreError.from(error)
            }
            for (orderId, reply) in zip(orders, replies) {
                for entry in reply.array ?? [] {
                    if let event = try? Self.decodeEntry(entry, orderId: orderId, key: keys.stream(orderId)) {
                        found[event.position] = event
                    }
                }
            }
        }
        return records.map { record in
            switch record {
            case .failure(let error): return .failure(error)
            case .success(.event(let event)): return .success(event)
            case .success(.reference(let orderId, let version, let position)):
                guard let event = found[position], event.version == version else {
                    return .failure(.corrupt("log entry \(position) names version \(version) of order \(orderId), "
                                             + "which its stream does not hold readably"))
                }
                return .success(event)
            }
        }
    }

    /// How many events were ever appended: the log's count of entries added, which its retention
    /// (`LogRetention`) does not lower as it does the log's length.
    public func appendedEvents() async throws(EventStoreError) -> Int {
        try await logInfo()["entries-added"]?.int ?? 0
    }

    /// True when the log still holds every entry at or after `time`: nothing was ever trimmed,
    /// or its oldest entry is at or before `time` (retention trims from the oldest on, and
    /// nothing deletes single entries), so reading it from there finds every event committed since.
    public func holdsEverything(since time: Timestamp) async throws(EventStoreError) -> Bool {
        let info = try await logInfo()
        guard let length = info["length"]?.int, let added = info["entries-added"]?.int, length < added else { return true }
        let oldest = info["first-entry"]?.array?.first?.string.flatMap { LogPosition($0) }
        return oldest.map { $0 <= LogPosition(atOrAfter: time) } ?? false
    }

    /// XINFO STREAM's fields for the log (none when it does not exist yet).
    private func logInfo() async throws(EventStoreError) -> [String: RedisValue] {
        do {
            let reply = try await redis.send("XINFO", "STREAM", keys.log)
            return reply.fieldValues
        } catch RedisError.server(let message) where message.hasPrefix("ERR no such key") {
            return [:]
        } catch {
            throw EventStoreError.from(error)
        }
    }

    /// Which orders have an event at or after `time`, by their streams (for a time the log no
    /// longer reaches back to): every stream is visited, one SCAN batch and one pipelined round
    /// trip of `XREVRANGE … COUNT 1` at a time. Each order is named once.
    public func ordersWithEvents(since time: Timestamp) async throws(EventStoreError) -> [String] {
        var found: [String] = []
        var seen = Set<String>()
        var cursor = "0"
        let start = LogPosition(atOrAfter: time).description
        repeat {
            let (next, orderIds) = try await orderStreams(from: cursor)
            cursor = next
            let replies: [RedisValue]
            do {
                replies = try await redis.pipeline(orderIds.map { RedisCommand("XREVRANGE", keys.stream($0), "+", start, "COUNT", 1) })
            } catch {
                throw EventStoreError.from(error)
            }
            for (orderId, reply) in zip(orderIds, replies) where !(reply.array ?? []).isEmpty && seen.insert(orderId).inserted {
                found.append(orderId)
            }
        } while cursor != "0"
        return found
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
    package static func decodeEntry(_ entry: RedisValue, orderId: String?, key: String) throws(EventStoreError) -> RecordedEvent {
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

}

import RedisClient
import OrdersDomain

/// One entry read from the log through a consumer group: its id, and the event when the entry
/// could be read (a malformed entry, or one whose event its order's stream does not hold, still
/// has to be acknowledged or dead-lettered by id).
package struct LogEntry: Sendable {
    package let id: String
    package let event: Result<RecordedEvent, EventStoreError>

    /// Reads the entries list of XRANGE or XCLAIM (where a deleted entry comes back as nil and
    /// is skipped), and the events they name from the order streams (`EventLog.resolve`).
    package static func entries(of reply: RedisValue, in log: EventLog) async throws(EventStoreError) -> [LogEntry] {
        var ids: [String] = []
        var records: [Result<EventLog.LogRecord, EventStoreError>] = []
        for entry in reply.array ?? [] {
            guard let pair = entry.array, pair.count == 2, let id = pair[0].string else { continue }
            ids.append(id)
            records.append(Result { () throws(EventStoreError) -> EventLog.LogRecord in
                try EventLog.decodeLogRecord(entry, key: log.keys.log)
            })
        }
        return zip(ids, try await log.resolve(records)).map { LogEntry(id: $0, event: $1) }
    }

    /// The same for XREADGROUP's `[[key, [[id, fields], …]]]`.
    package static func streamEntries(of reply: RedisValue, in log: EventLog) async throws(EventStoreError) -> [LogEntry] {
        guard let streams = reply.array, let first = streams.first?.array, first.count == 2 else { return [] }
        return try await entries(of: first[1], in: log)
    }
}

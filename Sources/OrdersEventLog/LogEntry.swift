import RedisClient
import OrdersDomain

/// One entry read from the log through a consumer group: its id, and the event when the entry
/// could be read (a malformed entry still has to be acknowledged or dead-lettered by id).
package struct LogEntry: Sendable {
    package let id: String
    package let event: Result<RecordedEvent, EventStoreError>

    /// Parses the `[[key, [[id, fields], …]]]` reply of XREADGROUP, or the entries list of
    /// XCLAIM (where a deleted entry comes back as nil and is skipped).
    package static func entries(of reply: RedisValue, key: String) -> [LogEntry] {
        var entries: [LogEntry] = []
        for entry in reply.array ?? [] {
            guard let pair = entry.array, pair.count == 2, let id = pair[0].string else { continue }
            entries.append(LogEntry(id: id, event: Result { () throws(EventStoreError) -> RecordedEvent in
                try EventLog.decodeEntry(entry, orderId: nil, key: key)
            }))
        }
        return entries
    }

    package static func streamEntries(of reply: RedisValue, key: String) -> [LogEntry] {
        guard let streams = reply.array, let first = streams.first?.array, first.count == 2 else { return [] }
        return entries(of: first[1], key: key)
    }
}

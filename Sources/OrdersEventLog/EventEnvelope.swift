import Foundation
import OrdersDomain

/// Who caused an event and why: stored as the `meta` field (JSON) of every entry.
public struct EventMetadata: Sendable, Hashable, Codable {
    public var commandId: String?
    public var correlationId: String?
    public var causationId: String?
    /// The schema version of the event's `data`, so readers can upcast older shapes.
    public var schemaVersion: Int

    public init(commandId: String? = nil, correlationId: String? = nil, causationId: String? = nil,
                schemaVersion: Int = 1) {
        self.commandId = commandId
        self.correlationId = correlationId
        self.causationId = causationId
        self.schemaVersion = schemaVersion
    }
}

/// An event about to be appended. Its version and position are given by the store.
public struct NewEvent: Sendable, Hashable {
    public var type: String
    public var eventId: String
    public var occurredAt: Timestamp
    /// The event's payload as JSON text.
    public var data: String
    public var metadata: EventMetadata

    public init(type: String, eventId: String, occurredAt: Timestamp, data: String, metadata: EventMetadata) {
        self.type = type
        self.eventId = eventId
        self.occurredAt = occurredAt
        self.data = data
        self.metadata = metadata
    }
}

/// An event as stored: what `XRANGE orders:{0}:stream:<id> - +` shows, field for field.
public struct RecordedEvent: Sendable, Hashable {
    public var orderId: String
    public var type: String
    /// 1, 2, 3, … within the order, without gaps.
    public var version: Int
    public var eventId: String
    public var occurredAt: Timestamp
    public var data: String
    /// The `meta` field as stored (JSON). Kept raw: projectors never need it, and decoding it
    /// for every event they read would cost them a fifth of their time.
    public var meta: String
    public var position: LogPosition

    public init(orderId: String, type: String, version: Int, eventId: String, occurredAt: Timestamp,
                data: String, meta: String, position: LogPosition) {
        self.orderId = orderId
        self.type = type
        self.version = version
        self.eventId = eventId
        self.occurredAt = occurredAt
        self.data = data
        self.meta = meta
        self.position = position
    }

    /// The decoded `meta` field; nil when it is not valid metadata JSON.
    public var metadata: EventMetadata? {
        try? JSONDecoder().decode(EventMetadata.self, from: Data(meta.utf8))
    }
}

/// What an append expects the order's stream to hold before it writes.
public enum ExpectedVersion: Sendable, Hashable, CustomStringConvertible {
    /// Append whatever the version is (no concurrency check).
    case any
    /// The order must not exist yet (its stream is empty).
    case noStream
    /// The order must have exactly this many events.
    case exactly(Int)

    /// How `orders_append` takes it.
    package var argument: String {
        switch self {
        case .any: return "any"
        case .noStream: return "0"
        case .exactly(let version): return String(version)
        }
    }

    public var description: String {
        switch self {
        case .any: return "any"
        case .noStream: return "no stream"
        case .exactly(let version): return String(version)
        }
    }
}

/// What an append wrote, or, for a repeated command id, what the first append wrote.
public struct AppendResult: Sendable, Hashable {
    public var orderId: String
    /// The order's version after the append.
    public var version: Int
    /// The log position of each appended event, in order.
    public var positions: [LogPosition]
    /// True when the command id had been seen: nothing was written this time.
    public var duplicate: Bool

    public var lastPosition: LogPosition { positions[positions.count - 1] }

    public init(orderId: String, version: Int, positions: [LogPosition], duplicate: Bool) {
        self.orderId = orderId
        self.version = version
        self.positions = positions
        self.duplicate = duplicate
    }
}

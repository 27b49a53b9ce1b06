import OrdersDomain
import OrdersEventLog
import RedisClient

/// The write side's storage: one Redis stream per order plus its partition's log, appended to
/// by the `orders_append` function so that the version check, both XADDs and the command-id
/// record are one atomic step in one partition (see Redis/orders.lua).
public final class EventStore: Sendable {
    public let redis: RedisClient
    public let layout: StoreLayout
    /// Reading what was appended: one order's stream (in its partition's log), each partition's log.
    public let logs: StoreLogs
    /// How long a command id is remembered for idempotent retries.
    public let commandRetention: Duration
    /// Largest `data` of one event, in bytes.
    public let maxEventBytes: Int
    /// Most events in one append.
    public static let maxEventsPerAppend = 100
    /// When an append counts as stored (`local`: on the primary; `replicated`: on N replicas too).
    public let durability: Durability

    public init(redis: RedisClient, layout: StoreLayout, commandRetention: Duration = .seconds(86_400),
                maxEventBytes: Int = 1 << 20, durability: Durability = .local) {
        self.redis = redis
        self.layout = layout
        self.logs = StoreLogs(redis: redis, layout: layout)
        self.commandRetention = commandRetention
        self.maxEventBytes = maxEventBytes
        self.durability = durability
    }

    /// A store of one partition, under `keys`' namespace.
    public convenience init(redis: RedisClient, keys: KeySchema = KeySchema(), commandRetention: Duration = .seconds(86_400),
                            maxEventBytes: Int = 1 << 20, durability: Durability = .local) {
        self.init(redis: redis, layout: StoreLayout(namespace: keys.namespace), commandRetention: commandRetention,
                  maxEventBytes: maxEventBytes, durability: durability)
    }

    /// The log of a store of one partition, which the read side reads (it fans out over
    /// partitions in a later step of issue 23; until then a store of more is the write side's only).
    public var log: EventLog {
        precondition(layout.count == 1, "the read side reads a store of one partition; this one has \(layout.count)")
        return logs.partitions[0]
    }

    /// The keys of a store of one partition (see `log`).
    public var keys: KeySchema { log.keys }

    // MARK: - Appending

    /// Appends `events` to the order's stream and the log if the order is at `expected`.
    /// With a `commandId` seen before (within `commandRetention`), writes nothing and returns the
    /// first append's result with `duplicate` set.
    public func append(orderId: String, expected: ExpectedVersion, events: [NewEvent],
                       commandId: String? = nil) async throws(EventStoreError) -> AppendResult {
        try validate(orderId: orderId, events: events, commandId: commandId)
        let keys = layout.keys(ofOrder: orderId)
        var command = RedisCommand.Builder(capacity: 512)
        command.append("FCALL")
        command.append("orders_append")
        command.append(commandId == nil ? 2 : 4)
        command.append(keys.stream(orderId))
        command.append(keys.log)
        if let commandId {
            command.append(keys.commandBucket(commandId))
            command.append(keys.legacyCommand(commandId))
        }
        command.append(FunctionLibrary.version)
        command.append(expected.argument)
        command.append(orderId)
        command.append(Int(commandRetention.milliseconds))
        command.append(commandId ?? "")
        command.append(events.count)
        for event in events {
            command.append(event.type)
            command.append(event.eventId)
            command.append(event.occurredAt.description)
            command.append(event.data)
            command.append(Self.encode(event.metadata))
        }
        let result: AppendResult
        do {
            guard case .replicated(let replicas, let timeout) = durability else {
                return try Self.appendResult(try await FunctionLibrary.call(command.command, on: redis), orderId: orderId, expected: expected)
            }
            // WAIT right behind the FCALL, in one pipeline: one connection, so it waits for this
            // append (a duplicate's function call rewrites its record, so it waits for the first
            // append too). Its reply is how many replicas had it in time.
            let replies = try await FunctionLibrary.call(pipeline: [command.command, RedisCommand("WAIT", replicas, Int(timeout.milliseconds))],
                                                         on: redis)
            result = try Self.appendResult(replies[0].orThrow(), orderId: orderId, expected: expected)
            let confirmed = try replies[1].orThrow().int ?? 0
            guard confirmed >= replicas else {
                Log.warning("append.not_replicated", ["orderId": orderId, "replicas": confirmed, "needed": replicas,
                                                      "waitedMs": Int(timeout.milliseconds)])
                throw EventStoreError.unavailable("the write reached \(confirmed) of the \(replicas) replica\(replicas == 1 ? "" : "s") it needs within \(timeout.milliseconds) ms",
                                                  outcomeUnknown: true)
            }
        } catch {
            throw EventStoreError.from(error)
        }
        return result
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
    ///
    /// A command id is recorded in the partition of the order it ran on (atomically with its
    /// events), so a retry is looked up in every partition: one pipelined round trip (one per
    /// master on a cluster).
    public func recordedResult(commandId: String) async throws(EventStoreError) -> AppendResult? {
        guard Identifier.isValid(commandId) else { return nil }
        var lookups = layout.partitions.map { RedisCommand("HGET", $0.commandBucket(commandId), commandId) }
        // Records of library versions before 8 exist only in stores of one partition.
        if layout.count == 1 { lookups.append(RedisCommand("GET", layout.partitions[0].legacyCommand(commandId))) }
        let replies: [RedisValue]
        do {
            replies = try await redis.pipeline(lookups)
        } catch {
            throw EventStoreError.from(error)
        }
        for reply in replies.prefix(layout.count) {
            if let text = reply.string { return try Self.bucketedResult(text, commandId: commandId, now: Timestamp.now().milliseconds) }
        }
        guard layout.count == 1, let text = replies[1].string else { return nil }
        // Before library version 8: the function's reply without its kind, as JSON.
        guard let parts = (try? JSON.parse(text))?.array, parts.count >= 3,
              let orderId = parts[0].string, let version = parts[1].int else {
            throw .corrupt("command record \(commandId) is unreadable: \(text.prefix(200))")
        }
        let positions = parts[2...].compactMap { $0.string.flatMap { LogPosition($0) } }
        guard positions.count == parts.count - 2 else { throw .corrupt("command record \(commandId) has a bad position") }
        return AppendResult(orderId: orderId, version: Int(version), positions: positions, duplicate: true)
    }

    /// A bucket's `<expiresAtMs>|<orderId>|<version>|<position>,<position>…` (nil once expired).
    static func bucketedResult(_ text: String, commandId: String, now: Int64) throws(EventStoreError) -> AppendResult? {
        let parts = text.split(separator: "|", omittingEmptySubsequences: false)
        guard parts.count == 4, let expires = Int64(parts[0]), let version = Int(parts[2]) else {
            throw .corrupt("command record \(commandId) is unreadable: \(text.prefix(200))")
        }
        guard expires > now else { return nil }
        let positions = parts[3].split(separator: ",").compactMap { LogPosition($0) }
        guard !positions.isEmpty, positions.count == parts[3].split(separator: ",").count else {
            throw .corrupt("command record \(commandId) has a bad position")
        }
        return AppendResult(orderId: String(parts[1]), version: version, positions: positions, duplicate: true)
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

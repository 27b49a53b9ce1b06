import Foundation
import OrdersDomain
@testable import OrdersEventLog
import OrdersWriteSide
import OrdersReadSide
import RedisClient
import Testing
import TestSupport

@Suite(.enabled(if: TestRedis.shouldRun))
struct EventStoreTests {
    @Test func appendAssignsGaplessVersionsAndOnePositionInBothStreams() async throws {
        let store = try await makeStore()
        let orderId = newOrderId()
        let first = try await store.append(orderId: orderId, expected: .noStream, events: [event("A"), event("B")])
        #expect(first.version == 2 && first.positions.count == 2 && !first.duplicate)
        let second = try await store.append(orderId: orderId, expected: .exactly(2), events: [event("C")])
        #expect(second.version == 3)

        let stream = try await store.log.events(of: orderId)
        #expect(stream.map(\.version) == [1, 2, 3])
        #expect(stream.map(\.type) == ["A", "B", "C"])
        #expect(stream.map(\.position) == first.positions + second.positions)
        let log = try await store.log.readLog(after: nil)
        #expect(log == stream, "the log holds the same events, fields and positions")
        #expect(try await store.log.lastPosition() == second.positions.last)
        #expect(try await store.log.version(of: orderId) == 3)
    }

    /// The log names each event (order, version, type) and the order's stream holds it, once; a
    /// log written before that (whole events on it) reads the same, mixed with references.
    @Test func theLogHoldsReferencesAndOldWholeEntriesStillRead() async throws {
        let store = try await makeStore()
        let orderId = newOrderId()
        let appended = try await store.append(orderId: orderId, expected: .noStream, events: [event("A")])
        let fields = try await store.redis.send("XRANGE", store.keys.log, "-", "+").array?.first?.array?[1].array?.compactMap(\.string) ?? []
        #expect(fields == ["orderId", orderId, "version", "1", "type", "A"])

        // An entry as library version 5 wrote it: the whole event on the log and in the stream.
        let older = newOrderId()
        let wholeFields = ["type", "Old", "version", "1", "eventId", "e-old", "occurredAt", "2026-11-22T10:00:00.000Z",
                           "data", "{}", "meta", #"{"schemaVersion":1}"#]
        let position = try await store.redis.send(RedisCommand("XADD", [store.keys.log, "*", "orderId", older] + wholeFields))
        try await store.redis.send(RedisCommand("XADD", [store.keys.stream(older), position.string!] + wholeFields))

        let log = try await store.log.readLog(after: nil)
        #expect(log.map(\.orderId) == [orderId, older])
        #expect(log[0] == (try await store.log.events(of: orderId))[0])
        #expect(log[1] == (try await store.log.events(of: older))[0])
        #expect(log[0].position == appended.positions[0])

        // A reference whose stream lost its event is an error of that entry alone.
        try await store.redis.send("DEL", store.keys.stream(orderId))
        let range = try await store.redis.send("XRANGE", store.keys.log, "-", "+").array ?? []
        let entries = try await store.log.resolve(range.map { entry in
            Result { () throws(EventStoreError) -> EventLog.LogRecord in try EventLog.decodeLogRecord(entry, key: store.keys.log) }
        })
        #expect(entries.count == 2)
        guard case .failure = entries[0] else { Issue.record("a dangling reference was read"); return }
        guard case .success(let event) = entries[1] else { Issue.record("the old entry was not read"); return }
        #expect(event.type == "Old")
    }

    @Test func fiftyConcurrentWritersOneWinnerPerVersion() async throws {
        let store = try await makeStore()
        let orderId = newOrderId()
        let writers = 50

        // Each writer reads the version and appends expecting it, until it has won once.
        let outcomes = try await withThrowingTaskGroup(of: (won: Int, conflicts: [(Int, Int)]).self) { group in
            for writer in 0..<writers {
                group.addTask {
                    var conflicts: [(Int, Int)] = []
                    for _ in 0..<500 {
                        let seen = try await store.log.version(of: orderId)
                        do {
                            let result = try await store.append(
                                orderId: orderId, expected: seen == 0 ? .noStream : .exactly(seen),
                                events: [event("Write", data: "{\"writer\":\(writer)}")])
                            return (result.version, conflicts)
                        } catch EventStoreError.concurrencyConflict(_, _, let actual) {
                            conflicts.append((seen, actual))
                        }
                    }
                    Issue.record("writer \(writer) never won")
                    return (-1, conflicts)
                }
            }
            var all: [(won: Int, conflicts: [(Int, Int)])] = []
            for try await outcome in group { all.append(outcome) }
            return all
        }

        #expect(outcomes.map(\.won).sorted() == Array(1...writers), "each version won by exactly one writer")
        for (seen, actual) in outcomes.flatMap(\.conflicts) {
            #expect(actual > seen, "a conflict reports the version that moved on")
        }
        let stream = try await store.log.events(of: orderId)
        #expect(stream.map(\.version) == Array(1...writers))
        #expect(Set(stream.map(\.data)).count == writers, "no writer's event stored twice")
        let log = try await store.log.readLog(after: nil, limit: 10_000).filter { $0.orderId == orderId }
        #expect(log == stream)
    }

    @Test func retryWithTheSameCommandIdWritesOnceAndReturnsTheFirstResult() async throws {
        let store = try await makeStore()
        let orderId = newOrderId()
        let commandId = "cmd-\(UUID().uuidString.prefix(8))"
        let first = try await store.append(orderId: orderId, expected: .noStream,
                                           events: [event("A"), event("B")], commandId: commandId)
        let retry = try await store.append(orderId: orderId, expected: .noStream,
                                           events: [event("A"), event("B")], commandId: commandId)
        #expect(retry.duplicate && !first.duplicate)
        #expect(retry.version == first.version && retry.positions == first.positions && retry.orderId == orderId)
        // Even a retry aimed at another order id (a create whose id was generated anew) gets the first result.
        let elsewhere = try await store.append(orderId: newOrderId(), expected: .noStream,
                                               events: [event("A")], commandId: commandId)
        #expect(elsewhere.orderId == orderId && elsewhere.duplicate)
        #expect(try await store.log.version(of: orderId) == 2)
        #expect(try await store.log.readLog(after: nil).count == 2)
        let recorded = try #require(try await store.redis.send("HGET", store.keys.commandBucket(commandId), commandId).string)
        let expires = Int64(recorded.split(separator: "|")[0]) ?? 0
        let left = expires - Timestamp.now().milliseconds
        #expect(left > 86_000_000 && left <= 86_400_000, "the command id is kept for 24 hours")
    }

    @Test func anExpiredCommandIdIsForgottenAndSweptAway() async throws {
        let store = try await makeStore(commandRetention: .seconds(2))
        let orderId = newOrderId()
        let commandId = "cmd-\(UUID().uuidString.prefix(8))"
        let first = try await store.append(orderId: orderId, expected: .noStream, events: [event("A")], commandId: commandId)
        #expect(try await store.recordedResult(commandId: commandId) == AppendResult(orderId: orderId, version: 1,
                                                                                    positions: first.positions, duplicate: true))
        let bucket = store.keys.commandBucket(commandId)
        let deadline = ContinuousClock.now + .seconds(10)
        while try await store.recordedResult(commandId: commandId) != nil {
            guard ContinuousClock.now < deadline else { Issue.record("the command id never expired"); return }
            try await Task.sleep(for: .milliseconds(50))
        }
        // Expired: the same id appends again, and the sweep deletes the first result's field.
        let again = try await store.append(orderId: orderId, expected: .exactly(1), events: [event("B")], commandId: commandId)
        #expect(!again.duplicate && again.version == 2)
        let sweeper = CommandIdSweeper(store: store)
        while try await store.redis.send("HEXISTS", bucket, commandId) == .integer(1) {
            guard ContinuousClock.now < deadline else { Issue.record("the sweep never deleted the expired result"); return }
            try await sweeper.sweep(bucket: KeySchema.bucket(of: commandId))
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    @Test func aCommandIdRecordedBeforeLibraryVersion8IsStillADuplicate() async throws {
        let store = try await makeStore()
        let orderId = newOrderId()
        let commandId = "cmd-\(UUID().uuidString.prefix(8))"
        let first = try await store.append(orderId: orderId, expected: .noStream, events: [event("A")])
        // What version 7 of the library wrote for a command id.
        try await store.redis.send("SET", store.keys.legacyCommand(commandId),
                                   "[\"\(orderId)\",1,\"\(first.positions[0])\"]", "PX", 60_000)
        let retry = try await store.append(orderId: orderId, expected: .noStream, events: [event("A")], commandId: commandId)
        #expect(retry.duplicate && retry.positions == first.positions)
        #expect(try await store.recordedResult(commandId: commandId)?.positions == first.positions)
        #expect(try await store.log.version(of: orderId) == 1)
    }

    @Test func staleExpectedVersionsConflictAndWriteNothing() async throws {
        let store = try await makeStore()
        let orderId = newOrderId()
        _ = try await store.append(orderId: orderId, expected: .noStream, events: [event(), event()])
        for expected: ExpectedVersion in [.noStream, .exactly(1), .exactly(3), .exactly(-1), .exactly(Int.max)] {
            await #expect(throws: EventStoreError.concurrencyConflict(orderId: orderId, expected: expected, actual: 2)) {
                try await store.append(orderId: orderId, expected: expected, events: [event(), event(), event()])
            }
        }
        #expect(try await store.log.version(of: orderId) == 2)
        #expect(try await store.log.readLog(after: nil).count == 2, "nothing reached the log")
        let any = try await store.append(orderId: orderId, expected: .any, events: [event()])
        #expect(any.version == 3)
    }

    @Test func multiEventAppendsAreAllOrNothing() async throws {
        let store = try await makeStore()
        let orderId = newOrderId()
        let oversized = event("Big", data: "\"" + String(repeating: "x", count: (1 << 20) + 1) + "\"")
        await #expect(throws: EventStoreError.self) {
            try await store.append(orderId: orderId, expected: .noStream, events: [event(), oversized, event()])
        }
        #expect(try await store.log.version(of: orderId) == 0)
        #expect(try await store.log.readLog(after: nil).isEmpty)

        let ok = try await store.append(orderId: orderId, expected: .noStream, events: (0..<5).map { _ in event() })
        #expect(ok.positions.count == 5)
        #expect(try await store.log.events(of: orderId).count == 5)
        #expect(try await store.log.readLog(after: nil).count == 5)
    }

    @Test func malformedAppendsAreRefusedWithNothingWritten() async throws {
        let store = try await makeStore()
        let orderId = newOrderId()
        for (events, orderId, commandId) in [
            ([], orderId, nil),
            ([event()], "bad id with spaces", nil),
            ([event()], "has:colon", nil),
            ([event()], orderId, "cmd id"),
            ([event("")], orderId, nil),
        ] as [([NewEvent], String, String?)] {
            let error = await failure { try await store.append(orderId: orderId, expected: .any, events: events,
                                                               commandId: commandId) }
            guard case .invalidAppend = error else {
                Issue.record("append of \(events.count) events to '\(orderId)' gave \(String(describing: error))")
                continue
            }
        }
        // The function's own checks, reached without the Swift validation in front of it.
        let raw = try await store.redis.pipeline([
            RedisCommand("FCALL", "orders_append", 2, store.keys.stream(orderId), store.keys.log,
                         FunctionLibrary.version, "sometimes", orderId, 1000, "", 1, "T", "e", "t", "{}", "{}"),
            RedisCommand("FCALL", "orders_append", 2, store.keys.stream(orderId), store.keys.log,
                         FunctionLibrary.version, "any", orderId, 1000, "", 2, "T", "e", "t", "{}", "{}"),
        ])
        #expect(raw[0].isError(prefix: "INVALID_APPEND unknown expected version"))
        #expect(raw[1].isError(prefix: "INVALID_APPEND expected 2 events"))
        #expect(try await store.redis.send("EXISTS", store.keys.stream(orderId), store.keys.log) == .integer(0))
    }

    @Test func readingTheLogFromATimestampReturnsExactlyTheEventsAtOrAfterIt() async throws {
        let store = try await makeStore()
        var positions: [LogPosition] = []
        for _ in 0..<30 {
            positions += try await store.append(orderId: newOrderId(), expected: .noStream,
                                                events: [event(), event()]).positions
        }
        let all = try await store.log.readLog(after: nil, limit: 1000)
        #expect(all.map(\.position) == positions)
        for cut in [positions[0], positions[17], positions[41], positions.last!] {
            let time = cut.time
            let fromTime = try await store.log.logOrders(from: time)
            let expected = all.filter { $0.position.milliseconds >= UInt64(time.milliseconds) }
            #expect(fromTime.map(\.position) == expected.map(\.position))
            #expect(fromTime.map(\.orderId) == expected.map(\.orderId))
            #expect(fromTime.first?.position.milliseconds == cut.milliseconds)
        }
        // Paging the log by position visits every entry once, in order.
        var paged: [RecordedEvent] = []
        var cursor: LogPosition?
        while true {
            let page = try await store.log.readLog(after: cursor, limit: 7)
            guard let last = page.last else { break }
            paged += page
            cursor = last.position
        }
        #expect(paged == all)
        let afterLast = try await store.log.logOrders(from: Timestamp(milliseconds: Int64(positions.last!.milliseconds) + 1))
        #expect(afterLast.isEmpty)
    }

    @Test func unreachableRedisIsATypedUnavailableError() async throws {
        let port = try RedisServerProcess.freePort()
        let redis = RedisClient(url: RedisURL(host: "127.0.0.1", port: port))
        let store = EventStore(redis: redis)
        let error = await failure { try await store.append(orderId: newOrderId(), expected: .any, events: [event()]) }
        guard case .unavailable(let message, let unknown) = error else {
            Issue.record("got \(String(describing: error))")
            return
        }
        #expect(message.contains("127.0.0.1:\(port)") && !unknown)
    }
}

extension RedisValue {
    func isError(prefix: String) -> Bool {
        if case .error(let message) = self { return message.hasPrefix(prefix) }
        return false
    }
}

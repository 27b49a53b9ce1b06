import Foundation
import OrdersDomain
import OrdersEventLog
import OrdersWriteSide
import RedisClient
import Testing
import TestSupport

/// Durability `replicated`: an append is answered once a replica has it (WAIT behind the FCALL
/// on its connection). Without the replica the command answers `unavailable` with the outcome
/// unknown, and a retry with the same command id is answered only once the replica has the first
/// append: never early, never twice. On a primary and a replica of their own.
@Suite(.enabled(if: TestRedis.shouldRun))
struct DurabilityTests {
    @Test func aReplicatedAppendIsAnsweredOnlyOnceAReplicaHasIt() async throws {
        let primary = try RedisServerProcess(arguments: ["--repl-diskless-sync-delay", "0"])
        try primary.start()
        let replica = try RedisServerProcess(arguments: ["--replicaof", "127.0.0.1", "\(primary.port)"])
        try replica.start()
        let primaryClient = RedisClient(RedisConfiguration(url: primary.url, connections: 2))
        let replicaClient = RedisClient(RedisConfiguration(url: replica.url, connections: 1))
        defer {
            primaryClient.close()
            replicaClient.close()
        }
        try await FunctionLibrary.ensureLoaded(on: primaryClient)
        // Taking the replication stream: a write of the primary's acknowledged by the replica (a
        // replica "online" right after its sync may not read the stream yet).
        let replicaOnline = {
            try await eventually(within: .seconds(10)) {
                let replies = try await primaryClient.pipeline([RedisCommand("SET", "durable-probe", "1"), RedisCommand("WAIT", 1, 100)])
                guard try replies[1].orThrow().int == 1 else { throw CancellationError() }
            }
        }
        try await replicaOnline()
        let store = EventStore(redis: primaryClient, keys: KeySchema(namespace: "durable"),
                               durability: .replicated(replicas: 1, timeout: .milliseconds(300)))
        let keys = store.keys

        // With the replica: answered, and the replica has the events by then.
        let first = try await store.append(orderId: "d-1", expected: .noStream, events: [event("Created")], commandId: "cmd-1")
        #expect(first.version == 1 && !first.duplicate)
        #expect(try await replicaClient.send("XLEN", keys.stream("d-1")).int == 1, "answered only once the replica had it")

        // The replica detached: written on the primary, not answered.
        try await replicaClient.send("REPLICAOF", "NO", "ONE")
        await #expect {
            try await store.append(orderId: "d-2", expected: .noStream, events: [event("Created")], commandId: "cmd-2")
        } throws: { error in
            guard case EventStoreError.unavailable(let message, let outcomeUnknown) = error else { return false }
            return outcomeUnknown && message.contains("0 of the 1 replica")
        }
        #expect(try await primaryClient.send("XLEN", keys.stream("d-2")).int == 1, "the outcome is unknown: the primary has it")
        // A retry while no replica has it: still not answered.
        await #expect(throws: EventStoreError.self) {
            try await store.append(orderId: "d-2", expected: .noStream, events: [event("Created")], commandId: "cmd-2")
        }

        // The replica back: the retry answers the first append's result, once the replica has it.
        try await replicaClient.send("REPLICAOF", "127.0.0.1", primary.port)
        let retried = try await eventually(within: .seconds(10)) {
            try await store.append(orderId: "d-2", expected: .noStream, events: [event("Created")], commandId: "cmd-2")
        }
        #expect(retried.duplicate && retried.version == 1, "the first append's result, nothing written twice")
        #expect(try await replicaClient.send("XLEN", keys.stream("d-2")).int == 1)
        #expect(try await primaryClient.send("XLEN", keys.log).int == 2, "two appends in the log, no more")

        // A replica attached but stalled: a retry on a connection that wrote nothing before must
        // still wait for the first append (a WAIT counts replicas up to the connection's last
        // write, so the retry's function call rewrites the command's record).
        try await replicaOnline()
        replica.pause()
        await #expect(throws: EventStoreError.self) {
            try await store.append(orderId: "d-3", expected: .noStream, events: [event("Created")], commandId: "cmd-3")
        }
        let freshConnection = EventStore(redis: RedisClient(RedisConfiguration(url: primary.url, connections: 1)), keys: keys,
                                         durability: .replicated(replicas: 1, timeout: .milliseconds(300)))
        await #expect(throws: EventStoreError.self, "answered before the stalled replica had the first append") {
            try await freshConnection.append(orderId: "d-3", expected: .noStream, events: [event("Created")], commandId: "cmd-3")
        }
        replica.resume()
        let answered = try await eventually(within: .seconds(10)) {
            try await freshConnection.append(orderId: "d-3", expected: .noStream, events: [event("Created")], commandId: "cmd-3")
        }
        #expect(answered.duplicate && answered.version == 1)
        #expect(try await replicaClient.send("XLEN", keys.stream("d-3")).int == 1)
    }

    @Test func durabilityIsReadFromItsSpelling() {
        #expect(Durability("local") == .local)
        #expect(Durability("replicated") == .replicated(replicas: 1, timeout: Durability.defaultTimeout))
        #expect(Durability("replicated:2", timeout: .milliseconds(50)) == .replicated(replicas: 2, timeout: .milliseconds(50)))
        for bad in ["", "Local", "replicated:0", "replicated:x", "replicated:", "sync"] { #expect(Durability(bad) == nil, "\(bad)") }
    }
}

import Foundation
import RedisClient
import Testing
import TestSupport

@Suite(.enabled(if: TestRedis.shouldRun))
struct RedisClientTests {
    let prefix = TestRedis.uniqueNamespace("client")

    func makeClient(_ kind: ClientKind) throws -> RedisClient {
        kind.client(RedisConfiguration(url: try TestRedis.url(), connections: 4))
    }

    @Test(arguments: ClientKind.allCases)
    func everyReplyType(kind: ClientKind) async throws {
        let client = try makeClient(kind)
        #expect(try await client.send("PING") == .status("PONG"))
        #expect(try await client.send("SET", "\(prefix):k", "v") == .status("OK"))
        #expect(try await client.send("GET", "\(prefix):k") == .bulk(Array("v".utf8)))
        #expect(try await client.send("INCRBY", "\(prefix):n", 41) == .integer(41))
        #expect(try await client.send("GET", "\(prefix):missing") == .null)
        #expect(try await client.send("GET", "\(prefix):k").string == "v")
        try await client.send("RPUSH", "\(prefix):l", "a", "b")
        #expect(try await client.send("LRANGE", "\(prefix):l", 0, -1)
            == .array([.bulk(Array("a".utf8)), .bulk(Array("b".utf8))]))
        #expect(try await client.send("LRANGE", "\(prefix):none", 0, -1) == .array([]))
        let replies = try await client.pipeline([RedisCommand("LPUSH", "\(prefix):k", "x")])
        guard case .error(let message) = replies[0] else {
            Issue.record("expected an error reply, got \(replies[0])")
            return
        }
        #expect(message.hasPrefix("WRONGTYPE"))
    }

    @Test(arguments: ClientKind.allCases)
    func errorReplyThrowsServerError(kind: ClientKind) async throws {
        let client = try makeClient(kind)
        try await client.send("SET", "\(prefix):s", "v")
        await #expect(throws: RedisError.self) { try await client.send("LPUSH", "\(prefix):s", "x") }
        do {
            try await client.send("NOSUCHCOMMAND")
            Issue.record("expected an error")
        } catch let error as RedisError {
            guard case .server(let message) = error else { Issue.record("got \(error)"); return }
            #expect(message.contains("unknown command"))
        }
    }

    @Test(arguments: ClientKind.allCases)
    func bulkStringsAreBinarySafe(kind: ClientKind) async throws {
        let client = try makeClient(kind)
        let withNul: [UInt8] = [0x61, 0x00, 0x62, 0x00, 0x00, 0x63]
        let notUTF8: [UInt8] = [0xff, 0xfe, 0xc3, 0x28, 0x80]
        let big = (0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        for (name, value) in [("nul", withNul), ("latin", notUTF8), ("big", big), ("empty", [])] {
            try await client.send("SET", "\(prefix):\(name)", value)
            #expect(try await client.send("GET", "\(prefix):\(name)") == .bulk(value), "value \(name)")
        }
        // A key may hold any bytes too.
        let oddKey: [UInt8] = Array("\(prefix):".utf8) + [0x00, 0x0a, 0x20, 0xff]
        try await client.send("SET", oddKey, "x")
        #expect(try await client.send("EXISTS", oddKey) == .integer(1))
    }

    @Test(arguments: ClientKind.allCases)
    func pipelineOfTenThousandCommands(kind: ClientKind) async throws {
        let client = try makeClient(kind)
        let commands = (0..<10_000).map { _ in RedisCommand("INCR", "\(prefix):counter") }
        let replies = try await client.pipeline(commands)
        #expect(replies.count == 10_000)
        #expect(replies == (1...10_000).map { RedisValue.integer(Int64($0)) })
    }

    @Test(arguments: ClientKind.allCases)
    func concurrentTasksNeverGetEachOthersReplies(kind: ClientKind) async throws {
        let client = try makeClient(kind)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for task in 0..<64 {
                group.addTask {
                    for round in 0..<50 {
                        let value = "task-\(task)-round-\(round)"
                        let replies = try await client.pipeline([
                            RedisCommand("SET", "\(prefix):t\(task)", value),
                            RedisCommand("GET", "\(prefix):t\(task)"),
                            RedisCommand("ECHO", value),
                        ])
                        #expect(replies == [.status("OK"), .bulk(Array(value.utf8)), .bulk(Array(value.utf8))])
                    }
                }
            }
            try await group.waitForAll()
        }
    }

    @Test(arguments: ClientKind.allCases)
    func selectsTheDatabaseFromTheURL(kind: ClientKind) async throws {
        let client = try makeClient(kind)
        var url = try TestRedis.url()
        url.database = 5
        let db5 = kind.client(url: url)
        try await db5.send("SET", "\(prefix):db", "five")
        #expect(try await client.send("EXISTS", "\(prefix):db") == .integer(0))
        #expect(try await db5.send("GET", "\(prefix):db").string == "five")
        try await db5.send("DEL", "\(prefix):db")
    }

    @Test(arguments: ClientKind.allCases)
    func closedClientRefusesCalls(kind: ClientKind) async throws {
        let client = try makeClient(kind)
        let closing = kind.client(url: try TestRedis.url())
        closing.close()
        await #expect(throws: RedisError.closed) { try await closing.send("PING") }
    }
}

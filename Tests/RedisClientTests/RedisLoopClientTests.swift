import EventLoops
import RedisClient
import Testing
import TestSupport

/// What the event-loop client adds to the shared behaviour: replies resume their task on its own
/// loop, cancelled waits are resumed, and timeouts and cancellations keep later replies matched.
@Suite(.enabled(if: TestRedis.shouldRun))
struct RedisLoopClientTests {
    let prefix = TestRedis.uniqueNamespace("loop-client")
    let loops = ClientKind.testLoops

    @Test func aTaskOnALoopIsResumedOnItsLoopByItsReplies() async throws {
        let client = RedisClient(RedisConfiguration(url: try TestRedis.url()), on: loops)
        for loop in loops.loops {
            let seen = try await Task(executorPreference: loop) { () async throws -> [Int] in
                var seen: [Int] = [EventLoop.current?.index ?? -1]
                for round in 0..<20 {
                    let reply = try await client.pipeline([RedisCommand("SET", "\(prefix):\(loop.index)", round),
                                                           RedisCommand("GET", "\(prefix):\(loop.index)")])
                    #expect(reply[1].int == round)
                    seen.append(EventLoop.current?.index ?? -1)
                }
                return seen
            }.value
            #expect(seen == Array(repeating: loop.index, count: 21))
        }
    }

    @Test func manyTasksOnOneLoopShareItsConnectionAndGetTheirOwnReplies() async throws {
        let client = RedisClient(RedisConfiguration(url: try TestRedis.url()), on: loops)
        let loop = loops.loops[0]
        try await withThrowingTaskGroup(of: Void.self) { group in
            for task in 0..<200 {
                group.addTask(executorPreference: loop) { () async throws -> Void in
                    for round in 0..<20 {
                        let value = "t\(task)r\(round)"
                        let echoed = try await client.send("ECHO", value).string
                        #expect(echoed == value)
                    }
                }
            }
            try await group.waitForAll()
        }
        let clients = try await client.send("CLIENT", "LIST").string ?? ""
        #expect(clients.split(separator: "\n").count >= 1)
    }

    @Test func aCancelledWaitIsResumedAndLaterRepliesStillMatch() async throws {
        let client = RedisClient(RedisConfiguration(url: try TestRedis.url(), commandTimeout: .seconds(60)), on: loops)
        let other = RedisClient(RedisConfiguration(url: try TestRedis.url()))
        let loop = loops.loops[1]
        let list = "\(prefix):list"
        let blocked = Task(executorPreference: loop) { try await client.send("BLPOP", list, 30) }
        // The BLPOP is on the wire once Redis lists a client blocked in it (other tests' projectors
        // block in XREADGROUP on the same server, so counting blocked clients is not enough).
        _ = try await eventually(within: .seconds(10)) {
            let clients = try await other.send("CLIENT", "LIST").string ?? ""
            guard clients.contains("cmd=blpop") else { throw Pending() }
        }
        blocked.cancel()
        await #expect(throws: CancellationError.self) { try await blocked.value }
        // Its reply, when it comes, is dropped: the next command on that connection gets its own.
        try await other.send("RPUSH", list, "x")
        let echo = try await Task(executorPreference: loop) { try await client.send("ECHO", "mine") }.value
        #expect(echo.string == "mine")
    }

    @Test func aReplyLateBeyondTheTimeoutFailsAndTheConnectionIsMadeAgain() async throws {
        let client = RedisClient(RedisConfiguration(url: try TestRedis.url(), commandTimeout: .milliseconds(200)), on: loops)
        let loop = loops.loops[0]
        let outcome = await Task(executorPreference: loop) { () async -> RedisError? in
            do {
                try await client.send("BLPOP", "\(prefix):never", 3)
                return nil
            } catch { return error as? RedisError }
        }.value
        guard case .timeout? = outcome else {
            Issue.record("expected a timeout, got \(String(describing: outcome))")
            return
        }
        let reply = try await Task(executorPreference: loop) { try await client.send("ECHO", "after") }.value
        #expect(reply.string == "after")
    }
}

private struct Pending: Error {}

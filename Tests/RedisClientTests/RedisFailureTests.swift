import Foundation
import RedisClient
import Testing
import TestSupport

/// Tests that break or restrict a server of their own: authentication, outages and restarts.
@Suite(.enabled(if: TestRedis.shouldRun))
struct RedisFailureTests {
    @Test(arguments: ClientKind.allCases)
    func wrongPasswordGivesAClearError(kind: ClientKind) async throws {
        let server = try RedisServerProcess(arguments: ["--requirepass", "right-password"])
        try server.start()
        var url = server.url
        url.password = "wrong-password"
        let client = kind.client(url: url)
        do {
            try await client.send("PING")
            Issue.record("expected an authentication error")
        } catch let error as RedisError {
            guard case .unavailable(let where_, let reason) = error else { Issue.record("got \(error)"); return }
            #expect(where_ == "redis://:***@127.0.0.1:\(server.port)")
            #expect(reason.contains("authentication failed"))
            #expect(!"\(error)".contains("wrong-password"))
        }
        url.password = "right-password"
        #expect(try await kind.client(url: url).send("PING") == .status("PONG"))
    }

    @Test(arguments: ClientKind.allCases)
    func aclUserLogsInWithUserAndPassword(kind: ClientKind) async throws {
        let server = try RedisServerProcess()
        try server.start()
        let admin = kind.client(url: server.url)
        try await admin.send("ACL", "SETUSER", "app", "on", ">app-pass", "~app:*", "+@all")
        var url = server.url
        url.username = "app"
        url.password = "app-pass"
        let app = kind.client(url: url)
        try await app.send("SET", "app:x", "1")
        await #expect(throws: RedisError.self) { try await app.send("SET", "other:x", "1") }
    }

    @Test(arguments: ClientKind.allCases)
    func callsDuringAnOutageFailFastNamingTheURLThenRecover(kind: ClientKind) async throws {
        let server = try RedisServerProcess()
        try server.start()
        let client = kind.client(RedisConfiguration(url: server.url, connections: 2,
                                                    reconnectBackoff: .milliseconds(20)...(.milliseconds(200))))
        try await client.send("SET", "k", "before")

        server.kill()
        // Each call is refused (connection refused, or the client backing off): none waits for
        // the command timeout, which would show as `.timeout`.
        for _ in 0..<20 {
            do {
                try await client.send("PING")
                Issue.record("PING succeeded while the server was down")
            } catch let error as RedisError {
                switch error {
                case .unavailable(let url, _), .connectionLost(let url, _):
                    #expect(url == "redis://127.0.0.1:\(server.port)")
                default:
                    Issue.record("unexpected error \(error)")
                }
            }
        }

        try server.start()
        let reply = try await eventually(within: .seconds(10)) { try await client.send("GET", "k") }
        #expect(reply.string == "before", "the AOF kept the write made before the crash")
    }

    @Test(arguments: ClientKind.allCases)
    func pooledCallsRecoverAfterRestartWhileOthersAreInFlight(kind: ClientKind) async throws {
        let server = try RedisServerProcess()
        try server.start()
        let client = kind.client(RedisConfiguration(url: server.url, connections: 4,
                                                    reconnectBackoff: .milliseconds(20)...(.milliseconds(200))))
        try await withThrowingTaskGroup(of: Void.self) { group in
            for task in 0..<16 {
                group.addTask {
                    for round in 0..<200 {
                        // Failures are expected while the server is down; replies that do arrive
                        // must still belong to their own request.
                        if let reply = try? await client.send("ECHO", "t\(task)r\(round)") {
                            #expect(reply.string == "t\(task)r\(round)")
                        }
                    }
                }
            }
            server.kill()
            try server.start()
            try await group.waitForAll()
        }
        _ = try await eventually(within: .seconds(10)) { try await client.send("PING") }
    }
}

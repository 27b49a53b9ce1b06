import RedisClient
import Testing

@Suite struct RedisURLTests {
    @Test func parsesHostPortAndDefaults() throws {
        let url = try RedisURL("redis://localhost")
        #expect(url.host == "localhost")
        #expect(url.port == 6379)
        #expect(url.database == 0)
        #expect(url.username == nil && url.password == nil)
    }

    @Test func parsesUserPasswordAndDatabase() throws {
        let url = try RedisURL("redis://orders:s%40cret@127.0.0.1:6390/3")
        #expect(url.username == "orders")
        #expect(url.password == "s@cret")
        #expect(url.port == 6390)
        #expect(url.database == 3)
    }

    /// `redis-sentinel://[user:password@]host:port[,host:port…]/<master-name>[/db]`: the
    /// sentinels (default port 26379) and the master's name; the login and db are the primary's.
    @Test func parsesSentinelURLs() throws {
        let url = try RedisURL("redis-sentinel://app:s%40cret@127.0.0.1:7204,127.0.0.1:7205,[::1]/orders/2")
        #expect(url.isSentinel && url.masterName == "orders")
        #expect(url.sentinels.map(\.description) == ["127.0.0.1:7204", "127.0.0.1:7205", "[::1]:26379"])
        #expect(url.username == "app" && url.password == "s@cret" && url.database == 2)
        #expect(url.description == "redis-sentinel://app:***@127.0.0.1:7204,127.0.0.1:7205,[::1]:26379/orders/2")
        #expect(url.at(host: "10.0.0.5", port: 6390).description == "redis://app:***@10.0.0.5:6390/2", "the primary, logged in as the URL says")
        #expect(try RedisURL("redis-sentinel://h1/mymaster").sentinels.map(\.port) == [26379])
        for bad in ["redis-sentinel://h1:26379", "redis-sentinel://h1:26379/", "redis-sentinel:///orders", "redis-sentinel://h1:x/orders"] {
            #expect(throws: RedisError.self, "\(bad)") { try RedisURL(bad) }
        }
        #expect(!(try RedisURL("redis://h")).isSentinel)
    }

    @Test func passwordWithoutUser() throws {
        let colonForm = try RedisURL("redis://:pw@h:1")
        #expect(colonForm.username == nil && colonForm.password == "pw")
        let bareForm = try RedisURL("redis://pw@h:1")
        #expect(bareForm.username == nil && bareForm.password == "pw")
    }

    @Test func ipv6Host() throws {
        let url = try RedisURL("redis://[::1]:6390")
        #expect(url.host == "::1" && url.port == 6390)
        #expect(url.description == "redis://[::1]:6390")
    }

    @Test func descriptionNeverShowsThePassword() throws {
        let url = try RedisURL("redis://user:topsecret@host:7000/2")
        #expect(url.description == "redis://user:***@host:7000/2")
        #expect(!url.description.contains("topsecret"))
    }

    @Test(arguments: ["http://host", "redis://", "redis://host:0", "redis://host:99999",
                      "redis://host:abc", "redis://host/x", "redis://[::1", "redis://u:%zz@h"])
    func rejectsMalformedURLs(text: String) {
        #expect(throws: RedisError.self) { try RedisURL(text) }
    }

    @Test func malformedURLErrorHidesThePassword() {
        do {
            _ = try RedisURL("rediss://user:topsecret@host")
            Issue.record("expected an error")
        } catch {
            #expect(!"\(error)".contains("topsecret"))
        }
    }
}

/// Commands are held in Redis's wire format, built once.
struct RedisCommandEncodingTests {
    @Test func encodesAsRESPAndReadsItsArgumentsBack() {
        let command = RedisCommand("SET", "key", 1234567890, [UInt8]([0, 0x0d, 0x0a, 0xff]), "")
        #expect(command.resp == Array("*5\r\n$3\r\nSET\r\n$3\r\nkey\r\n$10\r\n1234567890\r\n$4\r\n".utf8) + [0, 0x0d, 0x0a, 0xff]
                + Array("\r\n$0\r\n\r\n".utf8))
        #expect(command.arguments == [Array("SET".utf8), Array("key".utf8), Array("1234567890".utf8), [0, 0x0d, 0x0a, 0xff], []])
        #expect(command.count == 5 && command.name == "SET")
        #expect(RedisCommand(arguments: command.arguments) == command)
        #expect("\(command)" == "SET (4 arguments)", "no argument is ever printed")
    }
}

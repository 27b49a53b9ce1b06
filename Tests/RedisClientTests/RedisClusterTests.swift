import Foundation
import RedisClient
import Testing
import TestSupport

/// The client against the Redis Cluster of `Scripts/test` (3 masters, 3 replicas): routing by
/// slot, pipelines split by node, functions on every master, and slots moved under it.
@Suite(.enabled(if: TestRedis.shouldRunOnCluster), .serialized)
struct RedisClusterTests {
    let prefix = TestRedis.uniqueNamespace("cluster")

    func makeClient(_ kind: ClientKind) throws -> RedisClient {
        kind.client(RedisConfiguration(url: try TestRedis.clusterURL(), connections: 2,
                                       commandTimeout: TestRedis.commandTimeout))
    }

    /// A client of one node alone (lanes), asked without routing: what that node holds.
    func node(_ address: ClusterNode) throws -> RedisClient {
        var url = try TestRedis.clusterURL()
        url.host = address.host
        url.port = address.port
        return RedisClient(RedisConfiguration(url: url, connections: 1, commandTimeout: TestRedis.commandTimeout))
    }

    @Test(arguments: ClientKind.allCases)
    func keysGoToTheirSlotsMaster(kind: ClientKind) async throws {
        let client = try makeClient(kind)
        defer { client.close() }
        let keys = (0..<60).map { "\(prefix):\($0)" }
        for key in keys { try await client.send("SET", key, key) }
        #expect(client.isCluster)
        let primaries = try await client.primaries()
        #expect(primaries.count == 3)

        // Every key is on the master that owns its slot, and the keys reached every master.
        var holders: Set<ClusterNode> = []
        for primary in primaries {
            let direct = try node(primary)
            defer { direct.close() }
            for key in keys where try await direct.send("EXISTS", key) == .integer(1) {
                holders.insert(primary)
            }
        }
        #expect(holders.count == 3)

        // A pipeline across slots comes back in order.
        let replies = try await client.pipeline(keys.map { RedisCommand("GET", $0) })
        #expect(replies.map(\.string) == keys)
        let pings = try await client.sendToEveryPrimary(RedisCommand("PING"))
        #expect(pings == [.status("PONG"), .status("PONG"), .status("PONG")])
    }

    /// A client whose calls only ever went to the URL's node (no MOVED) still knows every master
    /// from its first call, so it can follow that node's failure to the replica that replaces it
    /// (the soak's cluster failover suites kill it; before, six partitions' projectors kept
    /// calling the dead node).
    @Test(arguments: ClientKind.allCases)
    func aClientKnowsTheWholeClusterFromItsFirstCall(kind: ClientKind) async throws {
        let seed = try TestRedis.clusterURL()
        let seedNode = ClusterNode(host: seed.host, port: seed.port)
        var onSeed = ""
        for index in 0..<2000 where onSeed.isEmpty {
            let key = "\(prefix)-seed:\(index)"
            if try await ownerOf(HashSlot.of(key), asking: seedNode) == seedNode { onSeed = key }
        }
        let fresh = try makeClient(kind)
        defer { fresh.close() }
        try await fresh.send("SET", onSeed, "1")
        #expect(fresh.isCluster, "known to be a cluster after one call that met no MOVED")
        #expect(fresh.dedicated().isCluster)
    }

    /// A new client's first call, a pipeline whose keys live on every master, goes to the URL's
    /// node before the client knows it is a cluster: the commands that node redirects run again
    /// on their own masters, and the ones it ran are not run twice.
    @Test(arguments: ClientKind.allCases)
    func aNewClientsFirstPipelineSpanningMastersRunsEachCommandOnce(kind: ClientKind) async throws {
        let fresh = try makeClient(kind)
        defer { fresh.close() }
        let keys = (0..<30).map { "\(prefix)-first:\(kind):\($0)" }
        let replies = try await fresh.pipeline(keys.map { RedisCommand("INCR", $0) } + keys.map { RedisCommand("GET", $0) })
        #expect(fresh.isCluster)
        #expect(replies == Array(repeating: .integer(1), count: keys.count) + Array(repeating: .bulk(Array("1".utf8)), count: keys.count))
    }

    /// SCAN is never redirected (a node scans what it holds): a walk over one hash tag must
    /// reach the tag's master even when it is a new client's first command, sent to another node.
    @Test(arguments: ClientKind.allCases)
    func aScanOfOneTagReachesItsMaster(kind: ClientKind) async throws {
        let writer = try makeClient(kind)
        defer { writer.close() }
        let keys = (0..<20).map { "\(prefix)-scan:{\(kind)}:\($0)" }
        for key in keys { try await writer.send("SET", key, "v") }
        let slot = HashSlot.of(keys[0])
        let primaries = try await writer.primaries()
        let owner = try await ownerOf(slot, asking: primaries[0])
        var url = try TestRedis.clusterURL()
        let other = primaries.first { $0 != owner }!
        url.host = other.host
        url.port = other.port
        let fresh = kind.client(RedisConfiguration(url: url, connections: 1, commandTimeout: TestRedis.commandTimeout))
        defer { fresh.close() }
        var found: Set<String> = []
        var cursor = "0"
        repeat {
            let reply = try await fresh.send("SCAN", cursor, "MATCH", "\(prefix)-scan:{\(kind)}:*", "COUNT", 100)
            cursor = reply.array?[0].string ?? "0"
            found.formUnion((reply.array?[1].array ?? []).compactMap(\.string))
        } while cursor != "0"
        #expect(found == Set(keys))
    }

    @Test(arguments: ClientKind.allCases)
    func transactionsRunWholeOnTheirTagsNode(kind: ClientKind) async throws {
        let client = try makeClient(kind)
        defer { client.close() }
        let a = "\(prefix):{tx}:a", b = "\(prefix):{tx}:b"
        let replies = try await client.pipeline([
            RedisCommand("MULTI"), RedisCommand("SET", a, "1"), RedisCommand("INCR", b), RedisCommand("EXEC"),
        ])
        #expect(replies.last == .array([.status("OK"), .integer(1)]))
        #expect(try await client.send("GET", a).string == "1")
    }

    /// A slot moved by hand the way `redis-cli --cluster reshard` moves it: the client follows
    /// `ASK` for a key that went, `TRYAGAIN` while a two-key call's keys are split, and `MOVED`
    /// once the move is done; nothing fails.
    @Test(arguments: ClientKind.allCases)
    func followsASlotBeingMoved(kind: ClientKind) async throws {
        let client = try makeClient(kind)
        defer { client.close() }
        let tag = "{\(prefix)-\(kind)}"
        let moved = "\(tag):moved", stays = "\(tag):stays"
        try await client.send("SET", moved, "m")
        try await client.send("SET", stays, "s")
        let slot = HashSlot.of(moved)
        let primaries = try await client.primaries()
        let map = try await ownerOf(slot, asking: primaries[0])
        let source = map, target = primaries.first { $0 != source }!
        let from = try node(source), to = try node(target)
        defer { from.close(); to.close() }
        let sourceId = try await from.send("CLUSTER", "MYID").string!
        let targetId = try await to.send("CLUSTER", "MYID").string!

        try await to.send("CLUSTER", "SETSLOT", slot, "IMPORTING", sourceId)
        try await from.send("CLUSTER", "SETSLOT", slot, "MIGRATING", targetId)
        try await from.send("MIGRATE", target.host, target.port, moved, 0, 5000)

        // ASK: the moved key is read from the target, the other one still from the source.
        #expect(try await client.send("GET", moved).string == "m")
        #expect(try await client.send("GET", stays).string == "s")

        // TRYAGAIN: a call on both keys cannot run anywhere until the second key moves too (the
        // source answers it while it holds one of the two).
        let script = "return redis.call('GET', KEYS[1]) .. redis.call('GET', KEYS[2])"
        async let both = client.send("EVAL", script, 2, moved, stays)
        try await eventually {
            guard try await errorCount("TRYAGAIN", on: from) + errorCount("TRYAGAIN", on: to) > 0 else { throw RedisError.server("no TRYAGAIN yet") }
        }
        try await from.send("MIGRATE", target.host, target.port, stays, 0, 5000)
        for primary in primaries {
            let each = try node(primary)
            defer { each.close() }
            try await each.send("CLUSTER", "SETSLOT", slot, "NODE", targetId)
        }
        #expect(try await both.string == "ms")

        // MOVED: the slot is the target's now, and the client's map says so.
        #expect(try await client.send("GET", stays).string == "s")
        try await client.send("SET", stays, "s2")
        #expect(try await to.send("GET", stays).string == "s2")
    }

    /// The soak's suite 9, small: the service on the cluster while `redis-cli --cluster reshard`
    /// moves the store's slot to another master and on to a third, under a load with command-id
    /// retries; nothing lost or doubled, read models equal a rebuild. In this suite, not beside
    /// it: a reshard refuses to start while another test holds a slot half-moved.
    @Test func theServiceSurvivesLiveResharding() async throws {
        let binary = ServiceProcess.binary(besides: CommandLine.arguments[0])
        #expect(FileManager.default.isExecutableFile(atPath: binary), "the orders binary is built beside the tests")
        let environment = SoakEnvironment(binary: binary, url: try TestRedis.clusterURL(), isCluster: true)
        let report = try await ReshardSuite(workers: 4, commands: 600, moves: 2, duration: .seconds(120)).run(environment)
        #expect(report.passed, "\(SuiteReport.table([report]))")
        #expect(report.acknowledged == report.sent && report.sent > 0)
    }

    /// The master that serves `slot`, as `CLUSTER SLOTS` of `node` says.
    func ownerOf(_ slot: Int, asking address: ClusterNode) async throws -> ClusterNode {
        let direct = try node(address)
        defer { direct.close() }
        for range in try await direct.send("CLUSTER", "SLOTS").array ?? [] {
            let fields = range.array ?? []
            if let start = fields[0].int, let end = fields[1].int, (start...end).contains(slot),
               let master = fields[2].array, let host = master[0].string, let port = master[1].int {
                return ClusterNode(host: host.isEmpty ? address.host : host, port: port)
            }
        }
        throw RedisError.server("no master serves slot \(slot)")
    }

    /// How often `node` answered an error starting with `prefix` (`INFO errorstats`).
    func errorCount(_ prefix: String, on node: RedisClient) async throws -> Int {
        let info = try await node.send("INFO", "errorstats").string ?? ""
        for line in info.split(whereSeparator: \.isNewline) where line.hasPrefix("errorstat_\(prefix):count=") {
            return Int(line.split(separator: "=").last!.prefix(while: \.isNumber)) ?? 0
        }
        return 0
    }
}

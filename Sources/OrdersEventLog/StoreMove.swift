import OrdersDomain
import RedisClient

/// Moves a stopped store from a single Redis to another Redis, typically a Redis Cluster
/// (`orders move-store`): every key of the namespace is copied as it is (DUMP, and RESTORE with
/// its remaining time to live), so streams keep their entry ids, consumer groups and pending
/// entries, command ids keep their expiry, and read models and checkpoints stay where their
/// projectors left them. Nothing is rebuilt and the source is left untouched.
///
/// Keys keep their names, so each partition's hash tag decides the master that receives it: a
/// store of one partition (tag `{0}`) lands whole on one master, a store created with
/// `--partitions P` spreads over the masters by its P tags.
///
/// The store must be stopped: a projector's lease on the source means an instance still runs,
/// and every partition's log head is compared before and after the copy, so a write during the
/// move is reported rather than left behind. The target must not hold the store yet: RESTORE
/// never replaces a key.
public enum StoreMove {
    public struct Refusal: Error, CustomStringConvertible {
        public let description: String
    }

    public struct Report: Sendable {
        public let layout: StoreLayout
        public let keys: Int
        public let bytes: Int
        public let orders: Int
        public let logEntries: Int
    }

    /// Keys read and written per round trip.
    static let batchSize = 200

    public static func copy(namespace: String, from source: RedisClient, to target: RedisClient) async throws -> Report {
        _ = try await source.primaries()
        guard !source.isCluster else {
            throw Refusal(description: "the source is a Redis Cluster; move-store copies a store from a single Redis")
        }
        guard let partitions = try await StoreCatalog.existingPartitions(source, namespace: namespace)?.partitions else {
            throw Refusal(description: "there is no store \(namespace) at the source")
        }
        let layout = StoreLayout(namespace: namespace, partitionCount: partitions)
        let occupied = try await target.pipeline([RedisCommand("EXISTS", StoreCatalog.key(namespace))]
            + layout.partitions.map { RedisCommand("EXISTS", $0.log) })
        guard occupied.allSatisfy({ $0.int == 0 }) else {
            throw Refusal(description: "the target already holds store \(namespace) (or part of it); move-store never replaces keys")
        }
        try await FunctionLibrary.ensureLoaded(on: target)

        // A projector's lease (or a replay's) is held only while an instance runs.
        if let lease = try await scan(source, matching: namespace + ":*:lease", each: { $0.first }) {
            throw Refusal(description: "an instance still runs on store \(namespace) (it holds \(lease)): stop every instance, and wait for a killed one's lease to lapse (5 s), then move")
        }
        let headsBefore = try await heads(of: layout, on: source)
        var keys = 0, bytes = 0, orders = 0
        _ = try await scan(source, matching: namespace + ":*") { (names: [String]) -> Never? in
            for start in stride(from: 0, to: names.count, by: batchSize) {
                let batch = Array(names[start..<min(start + batchSize, names.count)])
                let copied = try await copyKeys(batch, from: source, to: target)
                keys += copied.keys
                bytes += copied.bytes
                orders += batch.count { name in layout.partitions.contains { name.hasPrefix($0.prefix + "stream:") } }
            }
            return nil
        }

        let headsAfter = try await heads(of: layout, on: source)
        guard headsBefore == headsAfter else {
            throw Refusal(description: "store \(namespace) was written during the move (an instance still serves it): the copy on the target is incomplete; stop every instance, delete the namespace's keys on the target and move again")
        }
        // A store written before the catalog existed gets its record now, at the target.
        _ = try await StoreCatalog.open(target, namespace: namespace, partitions: partitions)
        var logEntries = 0
        for keys in layout.partitions {
            let (there, here) = (try await target.send("XLEN", keys.log).int ?? 0, try await source.send("XLEN", keys.log).int ?? 0)
            guard there == here else {
                throw Refusal(description: "partition \(keys.partition)'s log has \(there) entries at the target, \(here) at the source")
            }
            logEntries += there
        }
        return Report(layout: layout, keys: keys, bytes: bytes, orders: orders, logEntries: logEntries)
    }

    /// Walks the source's keys matching `pattern`, a page at a time, until `page` returns
    /// something (which is returned) or the walk ends (nil).
    private static func scan<T>(_ redis: RedisClient, matching pattern: String,
                                each page: ([String]) async throws -> T?) async throws -> T? {
        var cursor = "0"
        repeat {
            let reply = try await redis.send("SCAN", cursor, "MATCH", pattern, "COUNT", 1000)
            guard let parts = reply.array, parts.count == 2, let next = parts[0].string else {
                throw Refusal(description: "the source answered SCAN with \(reply)")
            }
            cursor = next
            if let found = try await page((parts[1].array ?? []).compactMap(\.string)) { return found }
        } while cursor != "0"
        return nil
    }

    /// Each partition's newest log entry id ("" for an empty log).
    private static func heads(of layout: StoreLayout, on redis: RedisClient) async throws -> [String] {
        let replies = try await redis.pipeline(layout.partitions.map { RedisCommand("XREVRANGE", $0.log, "+", "-", "COUNT", 1) })
        return try replies.map { try $0.orThrow().array?.first?.array?.first?.string ?? "" }
    }

    /// DUMP and PTTL of each key in one round trip, RESTORE of each in another. A key that
    /// expired in between (a command id) is skipped.
    private static func copyKeys(_ names: [String], from source: RedisClient, to target: RedisClient) async throws -> (keys: Int, bytes: Int) {
        let dumped = try await source.pipeline(names.flatMap { [RedisCommand("DUMP", $0), RedisCommand("PTTL", $0)] })
        var restores: [RedisCommand] = []
        var restored: [String] = []
        var bytes = 0
        for (index, name) in names.enumerated() {
            guard case .bulk(let payload) = try dumped[2 * index].orThrow(), let ttl = try dumped[2 * index + 1].orThrow().int, ttl != -2 else {
                continue
            }
            restores.append(RedisCommand("RESTORE", name, max(ttl, 0), payload))
            restored.append(name)
            bytes += payload.count
        }
        guard !restores.isEmpty else { return (0, 0) }
        for (name, reply) in zip(restored, try await target.pipeline(restores)) {
            if case .error(let message) = reply {
                throw Refusal(description: "the target refused \(name): \(message)")
            }
        }
        return (restores.count, bytes)
    }
}

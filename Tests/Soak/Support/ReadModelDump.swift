import OrdersDomain
import OrdersEventLog
import OrdersWriteSide
import OrdersReadSide
import RedisClient

/// Every key of one projection generation with its content in a canonical form (fields and
/// members sorted), with the generation taken out of key names, so two generations built by
/// different histories can be compared byte for byte. The generation's progress (checkpoint and
/// lease) is how far it got, not what it holds: it is left out.
public func dumpReadModel(_ store: EventStore, _ view: ViewKeys) async throws -> [String: String] {
    var keys: [String] = []
    var cursor = "0"
    repeat {
        let reply = try await store.redis.send("SCAN", cursor, "MATCH", view.prefix + "*", "COUNT", 1000)
        cursor = reply.array?[0].string ?? "0"
        keys += (reply.array?[1].array ?? []).compactMap(\.string)
    } while cursor != "0"
    var dump: [String: String] = [:]
    for key in keys where !view.isProgress(key) {
        let type = try await store.redis.send("TYPE", key).string ?? ""
        let content: RedisValue
        switch type {
        case "hash": content = try await store.redis.send("HGETALL", key)
        case "zset": content = try await store.redis.send("ZRANGE", key, 0, -1, "WITHSCORES")
        case "set": content = .array(try await store.redis.send("SMEMBERS", key).array?.flatMap { [$0, .bulk([])] } ?? [])
        default: content = .status(type)
        }
        let pairs = content.pairs.map { "\($0.0)=\($0.1)" }
        dump[String(key.dropFirst(view.prefix.count))] = type + ":" + pairs.sorted().joined(separator: ",")
    }
    return dump
}

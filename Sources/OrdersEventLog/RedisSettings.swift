import RedisClient

/// Settings of the connected Redis that waste memory or put events at risk, read at start-up
/// and by `health`: a user's own Redis will not have `Redis/redis.conf`, and every order is a
/// stream of its own, so a default that costs little for one big stream costs a lot here.
public struct RedisSettingsAdvice: Sendable, Equatable {
    public let setting: String
    public let value: String
    public let advice: String

    /// `CONFIG GET` of the settings that matter; an empty list when all are fine, or when this
    /// client may not read them (an ACL user without `CONFIG`: nothing can be said then).
    public static func check(on redis: RedisClient, durability: Durability = .local) async -> [RedisSettingsAdvice] {
        guard let reply = try? await redis.send("CONFIG", "GET", "stream-node-max-bytes", "stream-node-max-entries",
                                                "maxmemory-policy", "hash-max-listpack-value",
                                                "min-replicas-to-write", "min-replicas-max-lag") else { return [] }
        return advice(for: reply.fields, durability: durability)
    }

    /// What to say of these values (`CONFIG GET`'s answer as a map).
    public static func advice(for settings: [String: String], durability: Durability = .local) -> [RedisSettingsAdvice] {
        var advice: [RedisSettingsAdvice] = []
        // A primary cut off from its replicas (and sentinels) goes on taking writes until it is
        // demoted; every write it acknowledges meanwhile is lost in the failover. With
        // min-replicas-to-write it refuses them instead (answered `unavailable`, retried).
        if case .replicated(let replicas, _) = durability, let text = settings["min-replicas-to-write"], let set = Int(text), set < replicas {
            advice.append(RedisSettingsAdvice(
                setting: "min-replicas-to-write", value: text,
                advice: "an isolated primary keeps accepting writes that a failover then loses; set min-replicas-to-write \(replicas) "
                    + "and min-replicas-max-lag 10 on the primary (and in the replicas' configuration, for when one is promoted)"))
        }
        if case .replicated = durability, let text = settings["min-replicas-max-lag"], let lag = Int(text), lag > 10 {
            advice.append(RedisSettingsAdvice(
                setting: "min-replicas-max-lag", value: text,
                advice: "a replica silent for \(lag) s still counts as a replica; set min-replicas-max-lag 10 or less"))
        }
        // Redis 7 reserves each new stream node up to this size: every small order stream pays
        // it. 1536 holds a typical five-event order in one node (README, Memory).
        if let text = settings["stream-node-max-bytes"], let bytes = Int(text), bytes == 0 || bytes > 2048 {
            advice.append(RedisSettingsAdvice(
                setting: "stream-node-max-bytes", value: text,
                advice: "each order's stream reserves up to \(bytes == 0 ? "an unbounded" : "\(bytes) bytes of") node; "
                    + "set stream-node-max-bytes 1536 (as Redis/redis.conf does): ~2.4 KB less per order"))
        }
        if let text = settings["stream-node-max-entries"], let entries = Int(text), entries == 0 || entries > 1000 {
            advice.append(RedisSettingsAdvice(
                setting: "stream-node-max-entries", value: text,
                advice: "a stream node of the global log may grow very large; set stream-node-max-entries 100"))
        }
        // A command id's result (~70 bytes) kept in a listpack bucket costs ~120 bytes; past this
        // limit its bucket becomes a hashtable (~170).
        if let text = settings["hash-max-listpack-value"], let bytes = Int(text), bytes < 100 {
            advice.append(RedisSettingsAdvice(
                setting: "hash-max-listpack-value", value: text,
                advice: "command ids' results (~70 bytes) do not fit a listpack; set hash-max-listpack-value 128: ~50 bytes less per command"))
        }
        if let policy = settings["maxmemory-policy"], policy != "noeviction" {
            advice.append(RedisSettingsAdvice(
                setting: "maxmemory-policy", value: policy,
                advice: "under memory pressure Redis may evict keys, events included; set maxmemory-policy noeviction"))
        }
        return advice
    }
}

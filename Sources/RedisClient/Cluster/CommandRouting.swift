/// Where a command goes on a cluster: the slot of the key that decides its node.
///
/// Most commands name their key first (`GET key`, `XADD key …`); the rest are listed here by
/// how they name it. A command without a key (`PING`, `MULTI`, `EXEC`) goes with the commands
/// around it. `SCAN … MATCH pattern` is routed by the pattern's hash tag: every key of a
/// partition shares its tag and so its node, which is the node to scan.
extension RedisCommand {
    /// The slot of the command's key, nil for a command without one.
    public var slot: Int? {
        guard let key = routingKey else { return nil }
        return HashSlot.of(key)
    }

    /// The argument whose slot decides where the command runs.
    var routingKey: [UInt8]? {
        let arguments = self.arguments
        guard arguments.count > 1 else { return nil }
        let name = String(decoding: arguments[0], as: UTF8.self).uppercased()
        switch name {
        case "FCALL", "FCALL_RO", "EVAL", "EVALSHA", "EVAL_RO", "EVALSHA_RO":
            guard arguments.count > 3, let keys = Int(String(decoding: arguments[2], as: UTF8.self)), keys > 0 else { return nil }
            return arguments[3]
        case "XREAD", "XREADGROUP":
            guard let streams = arguments.firstIndex(where: { String(decoding: $0, as: UTF8.self).uppercased() == "STREAMS" }),
                  streams + 1 < arguments.count else { return nil }
            return arguments[streams + 1]
        case "XINFO", "XGROUP", "OBJECT", "MEMORY":
            // `XINFO STREAM key`, `XGROUP CREATE key …`, `MEMORY USAGE key`; `MEMORY STATS` has none.
            guard arguments.count > 2 else { return nil }
            return arguments[2]
        case "SCAN":
            guard let match = arguments.firstIndex(where: { String(decoding: $0, as: UTF8.self).uppercased() == "MATCH" }),
                  match + 1 < arguments.count else { return nil }
            let pattern = arguments[match + 1]
            // Only a pattern with a literal hash tag names one node.
            let tagged = pattern.withUnsafeBufferPointer { HashSlot.tag(of: $0) }
            return tagged.count < pattern.count ? pattern : nil
        case _ where Self.keyless.contains(name):
            return nil
        default:
            return arguments[1]
        }
    }

    /// Commands that name no key (or whose arguments are not keys).
    private static let keyless: Set<String> = [
        "MULTI", "EXEC", "DISCARD", "UNWATCH", "PING", "ECHO", "INFO", "FUNCTION", "CLUSTER",
        "CONFIG", "SCRIPT", "CLIENT", "WAIT", "ASKING", "READONLY", "READWRITE", "DBSIZE",
        "FLUSHALL", "FLUSHDB", "KEYS", "TIME", "AUTH", "SELECT", "ACL", "COMMAND", "HELLO",
        "RESET", "LASTSAVE", "BGSAVE", "BGREWRITEAOF", "SAVE", "SHUTDOWN", "ROLE", "LATENCY",
        "SLOWLOG", "DEBUG", "MONITOR", "QUIT", "RANDOMKEY", "SWAPDB", "REPLICAOF", "SLAVEOF",
        "FAILOVER", "MODULE", "PUBLISH", "PUBSUB", "SUBSCRIBE", "PSUBSCRIBE", "LOLWUT",
    ]

    /// True for `MULTI`: a pipeline holding one runs as one unit on one node.
    var isMulti: Bool { Self.hasName(resp, "MULTI") }
    var isExec: Bool { Self.hasName(resp, "EXEC") }
    var isWatch: Bool { Self.hasName(resp, "WATCH") }
    var isScan: Bool { Self.hasName(resp, "SCAN") }

    /// Compares the encoded name (`*n\r\n$len\r\nNAME\r\n`) without decoding the arguments.
    private static func hasName(_ resp: [UInt8], _ name: StaticString) -> Bool {
        guard let firstLine = resp.firstIndex(of: 0x0a), firstLine + 1 < resp.count,
              let lengthEnd = resp[(firstLine + 1)...].firstIndex(of: 0x0d) else { return false }
        let start = lengthEnd + 2
        let count = name.utf8CodeUnitCount
        guard start + count < resp.count, resp[start + count] == 0x0d else { return false }
        return name.withUTF8Buffer { expected in
            for index in 0..<count where resp[start + index] & 0xdf != expected[index] & 0xdf { return false }
            return true
        }
    }
}

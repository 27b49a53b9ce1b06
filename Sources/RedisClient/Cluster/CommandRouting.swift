/// Where a command goes on a cluster: the slot of the key that decides its node.
///
/// Most commands name their key first (`GET key`, `XADD key …`); the rest are listed here by
/// how they name it. A command without a key (`PING`, `MULTI`, `EXEC`) goes with the commands
/// around it. `SCAN … MATCH pattern` is routed by the pattern's hash tag: every key of a
/// partition shares its tag and so its node, which is the node to scan.
extension RedisCommand {
    /// The slot of the command's key, nil for a command without one.
    public var slot: Int? {
        guard let key = routingKeyRange else { return nil }
        return resp.withUnsafeBufferPointer { HashSlot.of(bytes: UnsafeBufferPointer(rebasing: $0[key])) }
    }

    /// The argument whose slot decides where the command runs.
    var routingKey: [UInt8]? { routingKeyRange.map { Array(resp[$0]) } }

    /// Where that argument lies in `resp`. Only the arguments up to it are looked at, none is
    /// copied: an append's event data is never read to route it.
    private var routingKeyRange: Range<Int>? {
        var arguments = ArgumentRanges(resp)
        guard let nameRange = arguments.next(), let first = arguments.next() else { return nil }
        let name = String(decoding: resp[nameRange], as: UTF8.self).uppercased()
        switch name {
        case "FCALL", "FCALL_RO", "EVAL", "EVALSHA", "EVAL_RO", "EVALSHA_RO":
            // `FCALL function numkeys key…`: the first key, when there is one.
            guard let count = arguments.next(), let keys = Int(String(decoding: resp[count], as: UTF8.self)), keys > 0 else { return nil }
            return arguments.next()
        case "XREAD", "XREADGROUP":
            return argument(after: "STREAMS", from: first, in: &arguments)
        case "XINFO", "XGROUP", "OBJECT", "MEMORY":
            // `XINFO STREAM key`, `XGROUP CREATE key …`, `MEMORY USAGE key`; `MEMORY STATS` has none.
            return arguments.next()
        case "SCAN":
            guard let pattern = argument(after: "MATCH", from: first, in: &arguments) else { return nil }
            // Only a pattern with a literal hash tag names one node.
            let tagged = resp.withUnsafeBufferPointer { HashSlot.tag(of: UnsafeBufferPointer(rebasing: $0[pattern])) }
            return tagged.count < pattern.count ? pattern : nil
        case _ where Self.keyless.contains(name):
            return nil
        default:
            return first
        }
    }

    /// The argument after the first one spelled `word` (any case), from `first` on.
    private func argument(after word: String, from first: Range<Int>, in arguments: inout ArgumentRanges) -> Range<Int>? {
        var current: Range<Int>? = first
        while let range = current {
            if String(decoding: resp[range], as: UTF8.self).uppercased() == word { return arguments.next() }
            current = arguments.next()
        }
        return nil
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

/// The byte ranges of a command's arguments in its encoding (`*n\r\n$len\r\narg\r\n…`), one at
/// a time, without copying them.
struct ArgumentRanges: IteratorProtocol {
    private let resp: [UInt8]
    private var index: Int

    init(_ resp: [UInt8]) {
        self.resp = resp
        self.index = (resp.firstIndex(of: 0x0a) ?? resp.count) + 1
    }

    mutating func next() -> Range<Int>? {
        guard index < resp.count, resp[index] == UInt8(ascii: "$") else { return nil }
        var length = 0
        var cursor = index + 1
        while cursor < resp.count, resp[cursor] != 0x0d {
            length = length * 10 + Int(resp[cursor] - UInt8(ascii: "0"))
            cursor += 1
        }
        let start = cursor + 2
        guard start + length <= resp.count else { return nil }
        index = start + length + 2
        return start..<(start + length)
    }
}

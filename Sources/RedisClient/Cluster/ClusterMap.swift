/// A node of a cluster, as `CLUSTER SLOTS` and redirections name it.
public struct ClusterNode: Sendable, Hashable, CustomStringConvertible {
    public let host: String
    public let port: Int
    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    public var description: String { "\(host):\(port)" }
}

/// Which master serves each of the 16,384 slots, read from `CLUSTER SLOTS`.
struct ClusterMap: Sendable {
    /// The masters, each once.
    private(set) var masters: [ClusterNode]
    /// For each slot, its master's index in `masters` (or -1 when no master serves it).
    private(set) var owners: [Int16]

    /// Reads `CLUSTER SLOTS`: `[[start, end, [host, port, id, …], replica…], …]`. A master whose
    /// host is empty is reached at `defaultHost` (the address the map was asked of).
    init?(slots reply: RedisValue, defaultHost: String) {
        guard let ranges = reply.array else { return nil }
        var masters: [ClusterNode] = []
        var owners = [Int16](repeating: -1, count: HashSlot.count)
        for range in ranges {
            guard let fields = range.array, fields.count >= 3,
                  let start = fields[0].int, let end = fields[1].int, 0 <= start, start <= end, end < HashSlot.count,
                  let master = fields[2].array, master.count >= 2,
                  let host = master[0].string, let port = master[1].int else { return nil }
            let node = ClusterNode(host: host.isEmpty || host == "?" ? defaultHost : host, port: port)
            let index: Int
            if let known = masters.firstIndex(of: node) { index = known } else {
                index = masters.count
                masters.append(node)
            }
            for slot in start...end { owners[slot] = Int16(index) }
        }
        guard !masters.isEmpty else { return nil }
        self.masters = masters
        self.owners = owners
    }

    /// What a `MOVED` says: `slot` is served by `node` now (a master the map may not know yet).
    mutating func assign(_ slot: Int, to node: ClusterNode) {
        if let index = masters.firstIndex(of: node) {
            owners[slot] = Int16(index)
        } else {
            owners[slot] = Int16(masters.count)
            masters.append(node)
        }
    }

    func master(of slot: Int) -> ClusterNode? {
        let index = Int(owners[slot])
        return index >= 0 ? masters[index] : nil
    }
}

/// A cluster's answer that a command belongs elsewhere: `MOVED <slot> <host>:<port>` (the slot
/// lives there now) or `ASK <slot> <host>:<port>` (it is moving there: ask once, with `ASKING`).
struct Redirection: Sendable, Equatable {
    enum Kind: Sendable { case moved, ask }
    let kind: Kind
    let slot: Int
    let node: ClusterNode

    /// Nil for any other reply. `defaultHost` stands in for an empty host (`MOVED 3999 :6381`).
    init?(_ reply: RedisValue, defaultHost: String) {
        guard case .error(let message) = reply else { return nil }
        let kind: Kind
        if message.hasPrefix("MOVED ") { kind = .moved } else if message.hasPrefix("ASK ") { kind = .ask } else { return nil }
        let words = message.split(separator: " ")
        guard words.count == 3, let slot = Int(words[1]), 0 <= slot, slot < HashSlot.count,
              let colon = words[2].lastIndex(of: ":"), let port = Int(words[2][words[2].index(after: colon)...]) else { return nil }
        let host = String(words[2][..<colon])
        self.kind = kind
        self.slot = slot
        self.node = ClusterNode(host: host.isEmpty ? defaultHost : host, port: port)
    }
}

extension RedisValue {
    /// `TRYAGAIN`: a multi-key command during a slot's migration, with its keys split between
    /// the two nodes for a moment. Nothing ran; the same command succeeds once the keys moved.
    var isTryAgain: Bool {
        if case .error(let message) = self { return message.hasPrefix("TRYAGAIN") }
        return false
    }

    /// A node answering that it does not serve the cluster now.
    var saysClusterDown: Bool {
        guard case .error(let message) = self else { return false }
        return message.hasPrefix("CLUSTERDOWN")
    }

    /// Any answer that asks the client to send again: MOVED, ASK or TRYAGAIN.
    var asksToResend: Bool {
        guard case .error(let message) = self else { return false }
        return message.hasPrefix("MOVED ") || message.hasPrefix("ASK ") || message.hasPrefix("TRYAGAIN")
    }
}

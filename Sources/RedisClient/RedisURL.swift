/// Where a Redis server is and how to log in: `redis://[user:password@]host[:port][/db]`.
///
/// A password alone is written `redis://:secret@host`; user and password may be
/// percent-encoded. IPv6 hosts go in brackets: `redis://[::1]:6390`.
///
/// A primary watched by Sentinel: `redis-sentinel://[user:password@]host:port[,host:port…]/<master-name>[/db]`
/// names the sentinels (default port 26379) and the master's name; user, password and db are the
/// primary's (the sentinels are asked without). `host` and `port` are then the first sentinel's,
/// and the primary's address comes from the sentinels (`SentinelMonitor`).
public struct RedisURL: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    public var port: Int
    public var username: String?
    public var password: String?
    public var database: Int
    /// The sentinels to ask for the primary (empty: `host` and `port` are the server's).
    public var sentinels: [SentinelAddress] = []
    /// The name the sentinels monitor the primary under (nil: no Sentinel).
    public var masterName: String?

    public struct SentinelAddress: Sendable, Hashable, CustomStringConvertible {
        public let host: String
        public let port: Int
        public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
    }

    public var isSentinel: Bool { masterName != nil }

    public init(host: String = "127.0.0.1", port: Int = 6379, username: String? = nil,
                password: String? = nil, database: Int = 0) {
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.database = database
    }

    public init(_ text: String) throws(RedisError) {
        let sentinelPrefix = "redis-sentinel://"
        if text.hasPrefix(sentinelPrefix) {
            try self.init(sentinel: Substring(text.dropFirst(sentinelPrefix.count)), text: text)
            return
        }
        let prefix = "redis://"
        guard text.hasPrefix(prefix) else {
            throw .invalidURL("'\(Self.redacted(text))' must start with redis:// or redis-sentinel://")
        }
        var rest = Substring(text.dropFirst(prefix.count))

        var username: String?
        var password: String?
        if let at = rest.lastIndex(of: "@") {
            let userInfo = rest[..<at]
            rest = rest[rest.index(after: at)...]
            if let colon = userInfo.firstIndex(of: ":") {
                let user = userInfo[..<colon]
                username = user.isEmpty ? nil : try Self.percentDecoded(user)
                password = try Self.percentDecoded(userInfo[userInfo.index(after: colon)...])
            } else if !userInfo.isEmpty {
                // redis://secret@host is how many tools spell a password with no user.
                password = try Self.percentDecoded(userInfo)
            }
        }

        var database = 0
        if let slash = rest.firstIndex(of: "/") {
            let path = rest[rest.index(after: slash)...]
            rest = rest[..<slash]
            if !path.isEmpty {
                guard let db = Int(path), db >= 0 else {
                    throw .invalidURL("database '\(path)' is not a number ≥ 0")
                }
                database = db
            }
        }

        var host: Substring
        var portText: Substring?
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else { throw .invalidURL("unclosed '[' in host") }
            host = rest[rest.index(after: rest.startIndex)..<close]
            let after = rest[rest.index(after: close)...]
            if after.hasPrefix(":") { portText = after.dropFirst() } else if !after.isEmpty {
                throw .invalidURL("unexpected '\(after)' after host")
            }
        } else if let colon = rest.lastIndex(of: ":") {
            host = rest[..<colon]
            portText = rest[rest.index(after: colon)...]
        } else {
            host = rest
        }
        guard !host.isEmpty else { throw .invalidURL("no host in '\(Self.redacted(text))'") }
        var port = 6379
        if let portText {
            guard let value = Int(portText), (1...65535).contains(value) else {
                throw .invalidURL("port '\(portText)' is not between 1 and 65535")
            }
            port = value
        }
        self.init(host: String(host), port: port, username: username, password: password, database: database)
    }

    /// `host1:port1,host2:port2/<master-name>[/db]` after `redis-sentinel://` and the user part.
    private init(sentinel rest: Substring, text: String) throws(RedisError) {
        var rest = rest
        var username: String?
        var password: String?
        if let at = rest.lastIndex(of: "@") {
            let parsed = try RedisURL("redis://" + rest[..<at] + "@x")
            (username, password) = (parsed.username, parsed.password)
            rest = rest[rest.index(after: at)...]
        }
        let parts = rest.split(separator: "/", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count >= 2, !parts[1].isEmpty else {
            throw .invalidURL("'\(Self.redacted(text))' must name the master: redis-sentinel://host:port[,host:port…]/<master-name>")
        }
        var sentinels: [SentinelAddress] = []
        for node in parts[0].split(separator: ",") {
            let parsed = try RedisURL("redis://" + node)
            sentinels.append(SentinelAddress(host: parsed.host, port: node.contains(":") && !node.hasSuffix("]") ? parsed.port : 26379))
        }
        guard let first = sentinels.first else { throw .invalidURL("no sentinel in '\(Self.redacted(text))'") }
        var database = 0
        if parts.count == 3, !parts[2].isEmpty {
            guard let db = Int(parts[2]), db >= 0 else { throw .invalidURL("database '\(parts[2])' is not a number ≥ 0") }
            database = db
        }
        self.init(host: first.host, port: first.port, username: username, password: password, database: database)
        self.sentinels = sentinels
        self.masterName = String(parts[1])
    }

    /// The URL with the password replaced by `***`: safe for logs and error messages.
    public var description: String {
        var text = isSentinel ? "redis-sentinel://" : "redis://"
        if username != nil || password != nil {
            text += username ?? ""
            if password != nil { text += ":***" }
            text += "@"
        }
        if let masterName {
            text += sentinels.map(\.description).joined(separator: ",") + "/" + masterName
        } else {
            text += host.contains(":") ? "[\(host)]" : host
            text += ":\(port)"
        }
        if database != 0 { text += "/\(database)" }
        return text
    }

    /// This URL pointing at another server (the primary the sentinels named, a cluster's node).
    public func at(host: String, port: Int) -> RedisURL {
        RedisURL(host: host, port: port, username: username, password: password, database: database)
    }

    private static func redacted(_ text: String) -> String {
        guard let at = text.lastIndex(of: "@") else { return text }
        return (text.hasPrefix("redis-sentinel://") ? "redis-sentinel://***" : "redis://***") + text[at...]
    }

    private static func percentDecoded(_ text: Substring) throws(RedisError) -> String {
        var bytes: [UInt8] = []
        var iterator = Array(text.utf8).makeIterator()
        while let byte = iterator.next() {
            guard byte == UInt8(ascii: "%") else { bytes.append(byte); continue }
            guard let high = iterator.next(), let low = iterator.next(),
                  let value = UInt8(String(decoding: [high, low], as: UTF8.self), radix: 16) else {
                throw .invalidURL("bad percent-encoding in user or password")
            }
            bytes.append(value)
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

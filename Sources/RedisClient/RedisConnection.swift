import CHiredis
#if canImport(Glibc)
import Glibc
#endif

/// One blocking connection to Redis over hiredis: connect, log in, select the database, then
/// send argv commands and read their replies.
///
/// Not thread-safe and deliberately not `Sendable`: one thread owns it at a time (a
/// `RedisLane`'s thread, or a test). After any I/O error or timeout the connection is `broken`
/// and must be dropped, since the reply stream can no longer be matched to commands.
public final class RedisConnection {
    public let url: RedisURL
    private var context: UnsafeMutablePointer<redisContext>?
    private let commandTimeout: Duration
    public private(set) var broken = false

    public init(url: RedisURL, connectTimeout: Duration = .seconds(2),
                commandTimeout: Duration = .seconds(5)) throws(RedisError) {
        self.url = url
        self.commandTimeout = commandTimeout
        ignoreSIGPIPE()
        guard let context = redisConnectWithTimeout(url.host, Int32(url.port), Self.timeval(connectTimeout)) else {
            throw .unavailable(url: url.description, reason: "out of memory allocating a hiredis context")
        }
        self.context = context
        if context.pointee.err != 0 {
            let reason = String(cString: chiredis_errstr(context))
            close()
            throw .unavailable(url: url.description, reason: reason)
        }
        redisSetTimeout(context, Self.timeval(commandTimeout))
        redisEnableKeepAlive(context)
        try logIn()
    }

    deinit { close() }

    public func close() {
        if let context { redisFree(context) }
        context = nil
        broken = true
    }

    /// Sends one command and returns its reply. An error reply is returned as `.error`, not thrown:
    /// use `RedisValue.orThrow()` where an error reply should become a Swift error.
    public func send(_ command: RedisCommand) throws(RedisError) -> RedisValue {
        try pipeline([command])[0]
    }

    /// Sends every command in one write and reads all replies in order: one round trip.
    /// Replies are returned even when some are error replies; I/O failure throws.
    public func pipeline(_ commands: [RedisCommand]) throws(RedisError) -> [RedisValue] {
        try append(commands)
        var replies: [RedisValue] = []
        replies.reserveCapacity(commands.count)
        for _ in commands { replies.append(try readReply()) }
        return replies
    }

    /// Queues commands in hiredis's output buffer; nothing is written until a reply is read.
    func append(_ commands: [RedisCommand]) throws(RedisError) {
        guard let context, !broken else { throw lost("connection is closed") }
        for command in commands {
            let appended = command.resp.withUnsafeBufferPointer { buffer in
                buffer.withMemoryRebound(to: CChar.self) { redisAppendFormattedCommand(context, $0.baseAddress, $0.count) }
            }
            if appended != REDIS_OK {
                throw fail(context)
            }
        }
    }

    /// Flushes what is queued, then blocks until the next reply arrives (or the timeout ends).
    func readReply() throws(RedisError) -> RedisValue {
        guard let context, !broken else { throw lost("connection is closed") }
        var raw: UnsafeMutableRawPointer?
        guard redisGetReply(context, &raw) == REDIS_OK, let raw else { throw fail(context) }
        let reply = raw.assumingMemoryBound(to: redisReply.self)
        defer { freeReplyObject(raw) }
        return RedisValue(reply: reply)
    }

    // MARK: - Private

    private func logIn() throws(RedisError) {
        var commands: [RedisCommand] = []
        if let password = url.password {
            if let username = url.username {
                commands.append(RedisCommand("AUTH", username, password))
            } else {
                commands.append(RedisCommand("AUTH", password))
            }
        }
        if url.database != 0 { commands.append(RedisCommand("SELECT", url.database)) }
        guard !commands.isEmpty else { return }
        let replies: [RedisValue]
        do { replies = try pipeline(commands) } catch {
            close()
            throw .unavailable(url: url.description, reason: "\(error)")
        }
        for (command, reply) in zip(commands, replies) {
            if case .error(let message) = reply {
                close()
                let step = command.name == "AUTH" ? "authentication failed" : "SELECT \(url.database) failed"
                throw .unavailable(url: url.description, reason: "\(step): \(message)")
            }
        }
    }

    /// Marks the connection broken and turns hiredis's error into a `RedisError`.
    private func fail(_ context: UnsafeMutablePointer<redisContext>) -> RedisError {
        let code = context.pointee.err
        let reason = String(cString: chiredis_errstr(context))
        broken = true
        // hiredis reports a socket timeout as an I/O error with EAGAIN/EWOULDBLOCK.
        if code == REDIS_ERR_IO && (errno == EAGAIN || errno == EWOULDBLOCK) {
            return .timeout(url: url.description, milliseconds: Int(commandTimeout.milliseconds))
        }
        return .connectionLost(url: url.description, reason: reason.isEmpty ? "error \(code)" : reason)
    }

    private func lost(_ reason: String) -> RedisError {
        .connectionLost(url: url.description, reason: reason)
    }

    private static func timeval(_ duration: Duration) -> timeval {
        let ms = max(1, duration.milliseconds)
        return Glibc.timeval(tv_sec: Int(ms / 1000), tv_usec: Int((ms % 1000) * 1000))
    }
}

extension Duration {
    var milliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}

/// A write to a socket the server closed raises SIGPIPE, whose default action ends the process;
/// hiredis expects the application to ignore it and then sees EPIPE as an ordinary I/O error.
private let sigpipeIgnored: Void = { _ = signal(SIGPIPE, SIG_IGN) }()
func ignoreSIGPIPE() { _ = sigpipeIgnored }

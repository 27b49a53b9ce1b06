import CHiredis
import CLinux
import EventLoops
#if canImport(Glibc)
import Glibc
#endif

/// One non-blocking connection to Redis, owned by one event loop and used only on its thread.
///
/// Commands submitted during a loop turn are written into one buffer and leave in one `send` at
/// the turn's end (automatic pipelining); replies are parsed by hiredis's reader as bytes arrive
/// and resume their waiters in order, on the same thread. Connecting is non-blocking too, with
/// the login (AUTH, SELECT) pipelined ahead of the first commands.
///
/// Failures follow `RedisLane`'s rules: a broken connection fails what is in flight
/// (`connectionLost`, `timeout`) and the next command connects again; a failed connect fails its
/// commands with `unavailable` and backs off (doubling), failing commands at once meanwhile.
final class RedisLoopConnection: EventLoopSource, TurnEndFlushing {
    let loop: EventLoop
    private let configuration: RedisConfiguration

    private enum State { case closed, connecting, ready }
    private var state = State.closed
    private var fd: Int32 = -1
    private var token: UInt64 = 0
    private var watchingWrite = false
    private var output: [UInt8] = []
    private var outputOffset = 0
    private var flushScheduled = false
    private var reader: UnsafeMutablePointer<redisReader>?
    private var waiters = WaiterQueue()
    private var connectDeadline = ContinuousClock.now
    private var backoff: Duration
    /// Connected at least once: a later connect is a reconnect (counted in `RedisStatistics`).
    private var hasConnected = false
    private var retryAt: ContinuousClock.Instant?
    private var connectError: RedisError?
    private var ticker: UInt64?
    private var shutDown = false
    private static let readSize = 64 << 10
    private let readBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: readSize, alignment: 16)

    init(loop: EventLoop, configuration: RedisConfiguration) {
        self.loop = loop
        self.configuration = configuration
        self.backoff = configuration.reconnectBackoff.lowerBound
        self.server = configuration.url
    }

    deinit { readBuffer.deallocate() }

    private var url: String { server.description }
    /// Where the connection goes: the URL's server, or the primary the sentinels named.
    private var server: RedisURL
    /// The Sentinel generation of `server`.
    private var generation: UInt64 = 0

    /// Queues `commands` (sent at the end of this turn); `continuation` gets every reply in order,
    /// error replies included, or the failure that lost them.
    func submit(_ commands: [RedisCommand], id: UInt64, continuation: UnsafeContinuation<[RedisValue], any Error>) {
        if shutDown {
            continuation.resume(throwing: RedisError.closed)
            return
        }
        if state != .closed && !configuration.isCurrent(generation) {
            // The sentinels named another primary: what is in flight here may or may not have run.
            disconnect(failing: .connectionLost(url: url, reason: "the primary changed"))
        }
        if state == .closed {
            if let retryAt, let connectError, ContinuousClock.now < retryAt {
                continuation.resume(throwing: connectError)
                return
            }
            if let error = connect() {
                continuation.resume(throwing: error)
                return
            }
        }
        for command in commands { output += command.resp }
        waiters.append(Waiter(id: id, expected: commands.count, continuation: continuation,
                              deadline: ContinuousClock.now + configuration.commandTimeout))
        scheduleFlush()
    }

    /// Resumes a waiter whose task was cancelled with `CancellationError`; its replies, when they
    /// come, are read and dropped so later replies still match their commands.
    func cancel(_ id: UInt64) {
        waiters.abandon(id)?.resume(throwing: CancellationError())
    }

    /// Fails everything with `closed` and refuses later commands.
    func close() {
        shutDown = true
        disconnect(failing: .closed)
        if let ticker { loop.removeTicker(ticker) }
        ticker = nil
    }

    // MARK: - Connecting

    /// Starts a non-blocking connect and queues the login. Returns the error when it fails at once.
    private func connect() -> RedisError? {
        let server: (url: RedisURL, generation: UInt64)
        do { server = try configuration.server() } catch { return connectFailed("\(error)") }
        self.server = server.url
        generation = server.generation
        guard let address = resolve() else {
            return connectFailed("cannot resolve host \(self.server.host)")
        }
        defer { freeaddrinfo(address) }
        let info = address.pointee
        fd = socket(info.ai_family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return connectFailed(String(cString: strerror(errno))) }
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, socklen_t(MemoryLayout<Int32>.size))
        if Glibc.connect(fd, info.ai_addr, info.ai_addrlen) != 0 && errno != EINPROGRESS {
            let reason = String(cString: strerror(errno))
            Glibc.close(fd)
            fd = -1
            return connectFailed(reason)
        }
        reader = redisReaderCreate()
        token = loop.register(fd, events: EPOLLIN.rawValue | EPOLLOUT.rawValue, source: self)
        watchingWrite = true
        state = .connecting
        connectDeadline = ContinuousClock.now + configuration.connectTimeout
        if ticker == nil { ticker = loop.addTicker { [unowned self] in checkDeadlines() } }
        queueLogin()
        return nil
    }

    private func resolve() -> UnsafeMutablePointer<addrinfo>? {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_NUMERICSERV
        var result: UnsafeMutablePointer<addrinfo>?
        let host = server.host.hasPrefix("[") ? String(server.host.dropFirst().dropLast()) : server.host
        guard getaddrinfo(host, String(server.port), &hints, &result) == 0 else { return nil }
        return result
    }

    private func queueLogin() {
        let url = server
        var commands: [RedisCommand] = []
        if let password = url.password {
            commands.append(url.username.map { RedisCommand("AUTH", $0, password) } ?? RedisCommand("AUTH", password))
        }
        if url.database != 0 { commands.append(RedisCommand("SELECT", url.database)) }
        for command in commands {
            output += command.resp
            waiters.append(Waiter(id: 0, expected: 1, continuation: nil, deadline: connectDeadline,
                                  login: command.name == "AUTH" ? "authentication failed" : "SELECT \(url.database) failed"))
        }
    }

    private func connectFailed(_ reason: String) -> RedisError {
        let error = RedisError.unavailable(url: url, reason: reason)
        connectError = error
        retryAt = ContinuousClock.now + backoff
        backoff = min(backoff * 2, configuration.reconnectBackoff.upperBound)
        return error
    }

    private func connected() {
        if hasConnected { configuration.reconnected() }
        hasConnected = true
        state = .ready
        backoff = configuration.reconnectBackoff.lowerBound
        connectError = nil
        retryAt = nil
    }

    // MARK: - Events

    func handleEvents(_ events: UInt32) {
        if state == .connecting {
            var error: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length)
            if error != 0 {
                disconnect(failing: connectFailed(String(cString: strerror(error))))
                return
            }
            if events & EPOLLOUT.rawValue == 0 && events & (EPOLLHUP.rawValue | EPOLLERR.rawValue) != 0 {
                disconnect(failing: connectFailed("connection refused"))
                return
            }
            guard events & EPOLLOUT.rawValue != 0 else { return }
            connected()
        }
        if events & EPOLLOUT.rawValue != 0 { write() }
        if state != .closed && events & (EPOLLIN.rawValue | EPOLLHUP.rawValue | EPOLLERR.rawValue) != 0 { read() }
    }

    func flushAtTurnEnd() {
        flushScheduled = false
        if state == .ready { write() }
    }

    private func scheduleFlush() {
        guard !flushScheduled else { return }
        flushScheduled = true
        loop.flushAtTurnEnd(self)
    }

    private func write() {
        while outputOffset < output.count {
            let written = output.withUnsafeBytes { buffer in
                send(fd, buffer.baseAddress! + outputOffset, buffer.count - outputOffset, Int32(MSG_NOSIGNAL))
            }
            if written > 0 {
                outputOffset += written
            } else if written < 0 && errno == EINTR {
                continue
            } else if written < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) {
                break
            } else {
                disconnect(failing: .connectionLost(url: url, reason: String(cString: strerror(errno))))
                return
            }
        }
        if outputOffset == output.count {
            output.removeAll(keepingCapacity: output.capacity <= 1 << 20)
            outputOffset = 0
        }
        let wantWrite = outputOffset < output.count
        if wantWrite != watchingWrite {
            watchingWrite = wantWrite
            loop.modify(fd, token: token, events: EPOLLIN.rawValue | (wantWrite ? EPOLLOUT.rawValue : 0))
        }
    }

    private func read() {
        while state != .closed {
            let received = recv(fd, readBuffer.baseAddress, Self.readSize, 0)
            if received > 0 {
                redisReaderFeed(reader, readBuffer.baseAddress!.assumingMemoryBound(to: CChar.self), received)
                deliverReplies()
                if received < Self.readSize { return }
            } else if received == 0 {
                disconnect(failing: .connectionLost(url: url, reason: "Redis closed the connection"))
                return
            } else if errno == EINTR {
                continue
            } else if errno == EAGAIN || errno == EWOULDBLOCK {
                return
            } else {
                disconnect(failing: .connectionLost(url: url, reason: String(cString: strerror(errno))))
                return
            }
        }
    }

    private func deliverReplies() {
        while state != .closed {
            var raw: UnsafeMutableRawPointer?
            guard redisReaderGetReply(reader, &raw) == REDIS_OK else {
                let reason = String(cString: chiredis_reader_errstr(reader))
                disconnect(failing: .connectionLost(url: url, reason: "protocol error: \(reason)"))
                return
            }
            guard let raw else { return }
            let value = RedisValue(reply: raw.assumingMemoryBound(to: redisReply.self))
            freeReplyObject(raw)
            guard let finished = waiters.deliver(value) else { continue }
            if let login = finished.login {
                if case .error(let message) = value {
                    disconnect(failing: connectFailed("\(login): \(message)"))
                    return
                }
            } else {
                finished.continuation?.resume(returning: finished.replies)
            }
        }
    }

    // MARK: - Failures

    private func checkDeadlines() {
        let now = ContinuousClock.now
        if state == .connecting && now >= connectDeadline {
            disconnect(failing: connectFailed("timed out connecting after \(configuration.connectTimeout)"))
        } else if state == .ready, let oldest = waiters.oldestDeadline, now >= oldest {
            disconnect(failing: .timeout(url: url, milliseconds: Int(configuration.commandTimeout.milliseconds)))
        }
    }

    /// Closes the socket and fails every waiter with `error`. The next command connects again
    /// (after the backoff when the failure was a connect).
    private func disconnect(failing error: RedisError) {
        if fd >= 0 {
            loop.deregister(fd, token: token)
            Glibc.close(fd)
            fd = -1
        }
        if let reader { redisReaderFree(reader) }
        reader = nil
        state = .closed
        output.removeAll()
        outputOffset = 0
        watchingWrite = false
        for continuation in waiters.removeAll() { continuation.resume(throwing: error) }
    }
}

import CLinux
import EventLoops
import OrdersDomain
import OrdersAPI
#if canImport(Glibc)
import Glibc
#endif

/// One connection of the load, on the driver's event loop: each of its `depth` slots sends a
/// request, and sends its next one when the answer comes (at once, or at its pace when the load
/// is paced). Requests leave once per loop turn, answers are read as they come: one thread
/// drives every connection, so the driver costs far less CPU than the service it measures.
final class LoadConnection: EventLoopSource, TurnEndFlushing, @unchecked Sendable {
    // @unchecked: every property is touched only on `loop`'s thread.
    let loop: EventLoop
    private let load: LoadBenchmark
    private let plan: LoadPlan
    private let fd: Int32
    private var token: UInt64 = 0
    private var slots: [Slot]
    private var sent: [Int: (slot: Int, op: String, at: ContinuousClock.Instant)] = [:]
    /// Over HTTP: ids of the requests in flight, in the order sent (answers come in that order).
    private var httpOrder: [Int] = []
    private var httpFirst = 0
    private var nextId = 1
    private var output: [UInt8] = []
    private var outputOffset = 0
    private var input: [UInt8] = []
    private var flushScheduled = false
    private var nextSend: [ContinuousClock.Instant]
    private var finished = false
    private let onFinish: () -> Void

    private(set) var latencies: [Double] = []
    private(set) var byOp: [String: [Double]] = [:]
    private(set) var errors = 0
    private(set) var conflicts = 0

    init(loop: EventLoop, load: LoadBenchmark, plan: LoadPlan, index: Int, onFinish: @escaping () -> Void) throws {
        self.loop = loop
        self.load = load
        self.plan = plan
        self.onFinish = onFinish
        slots = (0..<load.depth).map { Slot(seed: index * load.depth + $0) }
        nextSend = Array(repeating: .now, count: load.depth)
        fd = try load.http.map { try Self.connect(host: $0.host, port: $0.port) } ?? Self.connect(host: load.host, port: load.port)
    }

    /// On the loop's thread: starts every slot.
    func start() {
        token = loop.register(fd, events: EPOLLIN.rawValue, source: self)
        for slot in slots.indices { sendNext(slot) }
    }

    // MARK: - Requests and answers

    private func sendNext(_ slot: Int) {
        let now = ContinuousClock.now
        guard now < plan.end, plan.take() else {
            if sent.isEmpty { finish() }
            return
        }
        if let interval = plan.interval {
            // Paced: this slot's share of the rate, never faster.
            if nextSend[slot] > now {
                loop.schedule(at: nextSend[slot]) { [self] in sendNext(slot) }
                return
            }
            nextSend[slot] = max(now, nextSend[slot] + interval)
        }
        let (op, parameters) = load.scenario == "contended" ? plan.hot.next(load.itemsPerOrder, &slots[slot])
                                                            : slots[slot].next(load.scenario, plan.seedIds, load.itemsPerOrder)
        sent[nextId] = (slot, op, now)
        if load.http != nil {
            // The HTTP load runs only the scenarios whose operations HTTP sends (checked up front).
            output += HTTPLoadEncoding.request(op, parameters) ?? []
            httpOrder.append(nextId)
        } else {
            var request = parameters
            request["op"] = .string(op)
            request["id"] = JSON(nextId)
            output += JSON.object(request).encoded
            output.append(UInt8(ascii: "\n"))
        }
        nextId += 1
        if !flushScheduled {
            flushScheduled = true
            loop.flushAtTurnEnd(self)
        }
    }

    private func answer(_ line: ArraySlice<UInt8>) {
        // Most answers need no parsing: a success whose result the scenario does not use is
        // `{"id":N,"ok":true,…` (keys sorted), read without decoding the rest.
        if !plan.needsResults, let id = Self.successId(line) {
            guard let entry = sent.removeValue(forKey: id) else {
                errors += 1
                return
            }
            record(entry)
            sendNext(entry.slot)
            return
        }
        guard case .object(let response)? = try? JSON.parse(bytes: Array(line)),
              let id = response["id"]?.int, let entry = sent.removeValue(forKey: Int(id)) else {
            errors += 1
            return
        }
        record(entry)
        let ok = response["ok"] == .bool(true)
        if load.scenario == "contended" {
            if !plan.hot.learn(from: .object(response)) { errors += 1 }
            if response["error"]?["code"]?.string == "concurrency_conflict" { conflicts += 1 }
        } else if ok {
            slots[entry.slot].advance(with: response["result"])
        } else {
            errors += 1
            slots[entry.slot].restart()
        }
        sendNext(entry.slot)
    }

    /// Over HTTP: each complete answer in the input belongs to the oldest request in flight.
    private func readHTTPAnswers() {
        var start = 0
        while httpFirst < httpOrder.count, let (status, length) = HTTPLoadEncoding.answer(in: input[start...]) {
            start += length
            let id = httpOrder[httpFirst]
            httpFirst += 1
            guard let entry = sent.removeValue(forKey: id) else { continue }
            record(entry)
            if status >= 400 || status == 0 { errors += 1 }
            sendNext(entry.slot)
        }
        input.removeFirst(start)
        if httpFirst > 1024 {
            httpOrder.removeFirst(httpFirst)
            httpFirst = 0
        }
    }

    private func record(_ entry: (slot: Int, op: String, at: ContinuousClock.Instant)) {
        let elapsed = ContinuousClock.now - entry.at
        let latency = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
        latencies.append(latency)
        byOp[entry.op, default: []].append(latency)
    }

    /// The id of a success answer `{"id":<digits>,"ok":true…`, or nil for anything else.
    private static func successId(_ line: ArraySlice<UInt8>) -> Int? {
        let prefix = Array(#"{"id":"#.utf8), okMark = Array(#","ok":true"#.utf8)
        guard line.starts(with: prefix) else { return nil }
        var index = line.startIndex + prefix.count
        var id = 0
        while index < line.endIndex, (0x30...0x39).contains(line[index]) {
            id = id * 10 + Int(line[index] - 0x30)
            index += 1
        }
        guard index > line.startIndex + prefix.count, line[index...].starts(with: okMark) else { return nil }
        return id
    }

    private func finish() {
        guard !finished else { return }
        finished = true
        loop.deregister(fd, token: token)
        Glibc.close(fd)
        onFinish()
    }

    // MARK: - Socket

    func handleEvents(_ events: UInt32) {
        if events & EPOLLOUT.rawValue != 0 { write() }
        guard !finished, events & (EPOLLIN.rawValue | EPOLLHUP.rawValue | EPOLLERR.rawValue) != 0 else { return }
        var buffer = [UInt8](repeating: 0, count: 64 << 10)
        while !finished {
            let received = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if received > 0 {
                input += buffer[0..<received]
                if load.http != nil {
                    readHTTPAnswers()
                    if received < buffer.count { return }
                    continue
                }
                var start = 0
                while let newline = input[start...].firstIndex(of: UInt8(ascii: "\n")) {
                    answer(input[start..<newline])
                    start = newline + 1
                }
                input.removeFirst(start)
                if received < buffer.count { return }
            } else if received < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) {
                return
            } else if received < 0 && errno == EINTR {
                continue
            } else {
                errors += sent.count // the server closed the connection: what was in flight is lost
                sent = [:]
                finish()
                return
            }
        }
    }

    func flushAtTurnEnd() {
        flushScheduled = false
        write()
    }

    private func write() {
        guard !finished else { return }
        while outputOffset < output.count {
            let written = output.withUnsafeBytes { send(fd, $0.baseAddress! + outputOffset, $0.count - outputOffset, Int32(MSG_NOSIGNAL)) }
            if written > 0 { outputOffset += written } else if errno == EINTR { continue } else { break }
        }
        if outputOffset == output.count {
            output.removeAll(keepingCapacity: true)
            outputOffset = 0
        }
        loop.modify(fd, token: token, events: EPOLLIN.rawValue | (outputOffset < output.count ? EPOLLOUT.rawValue : 0))
    }

    private static func connect(host: String, port: Int) throws -> Int32 {
        let fd = try OrdersClient.connectedSocket(host: host, port: port)
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        return fd
    }
}

/// What every connection of one load shares (on the driver's one loop thread).
final class LoadPlan: @unchecked Sendable {
    let end: ContinuousClock.Instant
    let interval: Duration?
    let seedIds: [String]
    let hot: HotOrders
    /// Whether answers' results feed the next requests (the mix walks orders, contended learns
    /// versions); other scenarios only count successes.
    let needsResults: Bool
    private let limit: Int?
    private var issued = 0

    init(end: ContinuousClock.Instant, interval: Duration?, seedIds: [String], hot: HotOrders, limit: Int?, needsResults: Bool) {
        self.end = end
        self.needsResults = needsResults
        self.interval = interval
        self.seedIds = seedIds
        self.hot = hot
        self.limit = limit
    }

    /// Counts one more request; false once the load's request limit is reached.
    func take() -> Bool {
        guard let limit else { return true }
        issued += 1
        return issued <= limit
    }
}

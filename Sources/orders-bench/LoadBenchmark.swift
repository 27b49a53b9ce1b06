import Foundation
import OrdersAPI
import Synchronization

/// Load over the real protocol: `connections` threads, each with its own connection, keeping
/// `depth` requests in flight (sent together, then read together). Runs for `duration`, then
/// reports commands per second, latency percentiles, errors, and the projection lag sampled
/// every 100 ms on a separate connection (and the time to drain after the load stops).
///
/// Scenarios: `create` (createOrder only); `mix` (each in-flight slot walks one order through
/// create, confirm, process, then ship and deliver, or cancel 5% of the time, with a getOrder
/// read for 10% of requests); `reads` (getOrder, listOrders by status, summary and search over
/// 500 orders created first); `contended` (every connection moves the same 10 hot orders along
/// their status flow with `expectedVersion`, learning each order's version from answers and
/// conflicts; a delivered order is replaced by a new one; reports the conflict rate).
struct LoadBenchmark {
    let host: String
    let port: Int
    let connections: Int
    let depth: Int
    let duration: Duration
    let scenario: String
    let itemsPerOrder: Int
    /// Total requests per second to pace the load at (spread over the connections); nil: as
    /// fast as answers come.
    var rate: Int? = nil
    /// Stop after this many requests in all (as well as after `duration`, whichever comes first).
    var requestLimit: Int? = nil

    func run() throws -> [String: Double] {
        let seedIds = scenario == "reads" || scenario == "get" ? try createSeedOrders(500) : []
        let hot = HotOrders(try scenario == "contended" ? createSeedOrders(10) : [])
        let stop = Atomic<Bool>(false)
        let issued = Atomic<Int>(0)
        let results = Mutex<[(latencies: [Double], byOp: [String: [Double]], errors: Int, conflicts: Int)]>([])
        let lagSamples = Mutex<[(ms: Double, events: Double)]>([])
        let started = ContinuousClock.now
        let end = started + duration

        let sampler = Thread { [self] in
            guard let client = try? OrdersClient(host: host, port: port) else { return }
            while !stop.load(ordering: .relaxed) {
                if let lag = try? maxLag(client) { lagSamples.withLock { $0.append((lag.milliseconds, Double(lag.events))) } }
                usleep(100_000)
            }
        }
        sampler.start()

        let done = DispatchGroup()
        for connection in 0..<connections {
            done.enter()
            let thread = Thread { [self] in
                defer { done.leave() }
                var latencies: [Double] = []
                var byOp: [String: [Double]] = [:]
                var errors = 0
                var conflicts = 0
                // Paced: each connection sends its share of `rate`, one round of `depth` at a time.
                let interval = rate.map { Duration.seconds(Double(connections * depth) / Double(max(1, $0))) }
                var nextRound = ContinuousClock.now
                do {
                    let client = try OrdersClient(host: host, port: port)
                    var slots = (0..<depth).map { Slot(seed: connection * depth + $0) }
                    while ContinuousClock.now < end {
                        if let requestLimit, issued.add(depth, ordering: .relaxed).newValue > requestLimit { break }
                        if let interval {
                            let now = ContinuousClock.now
                            if nextRound > now { usleep(UInt32(min(1_000_000, (nextRound - now).milliseconds * 1000))) }
                            nextRound += interval
                        }
                        var sent: [(id: Int, slot: Int, op: String, at: ContinuousClock.Instant)] = []
                        for index in slots.indices {
                            let (op, parameters) = scenario == "contended" ? hot.next(itemsPerOrder, &slots[index])
                                                                           : slots[index].next(scenario, seedIds, itemsPerOrder)
                            sent.append((try client.send(op, parameters), index, op, .now))
                        }
                        var bySlot: [Int: (slot: Int, op: String, at: ContinuousClock.Instant)] = [:]
                        for entry in sent { bySlot[entry.id] = (entry.slot, entry.op, entry.at) }
                        for _ in sent {
                            let response = try client.receive()
                            guard let id = response["id"] as? Int, let entry = bySlot[id] else { errors += 1; continue }
                            let latency = (ContinuousClock.now - entry.at).milliseconds
                            latencies.append(latency)
                            byOp[entry.op, default: []].append(latency)
                            if scenario == "contended" {
                                if !hot.learn(from: response) { errors += 1 }
                                if (response["error"] as? [String: Any])?["code"] as? String == "concurrency_conflict" { conflicts += 1 }
                            } else if response["ok"] as? Bool == true {
                                slots[entry.slot].advance(with: response["result"] as? [String: Any])
                            } else {
                                errors += 1
                                slots[entry.slot].restart()
                            }
                        }
                    }
                } catch {
                    errors += 1
                }
                results.withLock { $0.append((latencies, byOp, errors, conflicts)) }
            }
            thread.stackSize = 1 << 20
            thread.start()
        }
        done.wait()
        let elapsed = (ContinuousClock.now - started).seconds
        let drainStarted = ContinuousClock.now
        let client = try OrdersClient(host: host, port: port)
        while try maxLag(client).events > 0, ContinuousClock.now - drainStarted < .seconds(60) { usleep(5_000) }
        let drain = (ContinuousClock.now - drainStarted).milliseconds
        stop.store(true, ordering: .relaxed)

        let all = results.withLock { $0 }
        let latencies = all.flatMap(\.latencies).sorted()
        let lags = lagSamples.withLock { $0 }.map(\.ms).sorted()
        let lagEvents = lagSamples.withLock { $0 }.map(\.events).sorted()
        func percentile(_ values: [Double], _ p: Double) -> Double {
            values.isEmpty ? 0 : values[min(values.count - 1, Int(Double(values.count) * p))]
        }
        return ["connections": Double(connections), "depth": Double(depth), "seconds": elapsed,
                "requests": Double(latencies.count), "requestsPerSecond": Double(latencies.count) / elapsed,
                "errors": Double(all.reduce(0) { $0 + $1.errors }),
                "conflicts": Double(all.reduce(0) { $0 + $1.conflicts }),
                "latencyP50Ms": percentile(latencies, 0.5), "latencyP90Ms": percentile(latencies, 0.9),
                "latencyP99Ms": percentile(latencies, 0.99), "latencyMaxMs": latencies.last ?? 0,
                "lagP50Ms": percentile(lags, 0.5), "lagP99Ms": percentile(lags, 0.99), "lagMaxMs": lags.last ?? 0,
                "lagP50Events": percentile(lagEvents, 0.5), "lagP99Events": percentile(lagEvents, 0.99),
                "drainMs": drain].merging(perOperation(all.map(\.byOp), elapsed)) { $1 }
    }

    /// Per operation (when a scenario mixes several): requests/s and latency percentiles, as
    /// `<op>PerSecond`, `<op>P50Ms`, `<op>P99Ms`.
    private func perOperation(_ maps: [[String: [Double]]], _ elapsed: Double) -> [String: Double] {
        var merged: [String: [Double]] = [:]
        for map in maps { for (op, values) in map { merged[op, default: []] += values } }
        guard merged.count > 1 else { return [:] }
        var figures: [String: Double] = [:]
        for (op, values) in merged {
            let sorted = values.sorted()
            figures[op + "PerSecond"] = Double(sorted.count) / elapsed
            figures[op + "P50Ms"] = sorted[sorted.count / 2]
            figures[op + "P99Ms"] = sorted[min(sorted.count - 1, Int(Double(sorted.count) * 0.99))]
        }
        return figures
    }

    private func createSeedOrders(_ count: Int) throws -> [String] {
        let client = try OrdersClient(host: host, port: port)
        return try (0..<count).map { index in
            var slot = Slot(seed: index)
            let (op, parameters) = slot.next("create", [], itemsPerOrder)
            return (try client.call(op, parameters) as? [String: Any])?["orderId"] as? String ?? ""
        }
    }

    /// The larger lag of the two projections: age of the oldest unapplied event, and events behind.
    private func maxLag(_ client: OrdersClient) throws -> (milliseconds: Double, events: Int) {
        let status = try client.call("projectionStatus") as? [String: Any] ?? [:]
        let projections = status["projections"] as? [[String: Any]] ?? []
        let ms = projections.compactMap { $0["lagMilliseconds"] as? Int }.max() ?? 0
        let events = projections.map { ($0["lagEvents"] as? Int ?? 0) + ($0["pending"] as? Int ?? 0) }.max() ?? 0
        return (Double(ms), events)
    }
}

/// One in-flight request slot: what it sends next, and the order it is walking.
struct Slot {
    var generator: UInt64
    var orderId: String?
    /// The position of this slot's last write: its reads wait for it (read-your-writes).
    var position: String?
    var step = 0

    init(seed: Int) { generator = UInt64(seed) &* 0x9E37_79B9_7F4A_7C15 | 1 }

    mutating func random(_ bound: Int) -> Int {
        generator ^= generator << 13
        generator ^= generator >> 7
        generator ^= generator << 17
        return Int(generator % UInt64(bound))
    }

    mutating func next(_ scenario: String, _ seedIds: [String], _ items: Int) -> (String, [String: Any]) {
        switch scenario {
        case "get":
            return ("getOrder", ["orderId": seedIds[random(seedIds.count)]])
        case "reads":
            switch random(4) {
            case 0: return ("getOrder", ["orderId": seedIds[random(seedIds.count)]])
            case 1: return ("listOrders", ["status": "pending", "limit": 20])
            case 2: return ("summary", [:])
            default: return ("search", ["q": ["mug", "tea", "customer", "lamp"][random(4)], "limit": 20])
            }
        case "mix":
            if let orderId, let position, random(10) == 0 {
                return ("getOrder", ["orderId": orderId, "minPosition": position])
            }
            if let orderId {
                if step == 3 && random(20) == 0 {
                    step = 4 // the cancel ends this order's walk
                    return ("cancelOrder", ["orderId": orderId, "reason": "bench"])
                }
                return ("updateStatus", ["orderId": orderId, "status": ["confirmed", "processing", "shipped", "delivered"][step - 1]])
            }
            return create(items)
        default:
            return create(items)
        }
    }

    mutating func create(_ items: Int) -> (String, [String: Any]) {
        let customer = random(5000)
        return ("createOrder", ["customerName": "Customer \(customer)", "customerEmail": "customer\(customer)@example.com",
                                "items": (0..<items).map { ["sku": "SKU-\($0)", "name": ["Blue mug", "Green tea", "Desk lamp"][$0 % 3],
                                                            "quantity": 1 + $0 % 3, "unitPrice": "9.99"] }])
    }

    /// Moves the walked order on after a successful answer to a command (reads change nothing).
    mutating func advance(with result: [String: Any]?) {
        guard let result, let id = result["orderId"] as? String, let written = result["position"] as? String else { return }
        position = written
        if orderId == nil { orderId = id; step = 1; return }
        step += 1
        if step > 4 { restart() } // delivered: start a new order
    }

    mutating func restart() {
        orderId = nil
        step = 0
    }
}

extension Duration {
    var milliseconds: Double { seconds * 1000 }
}

/// The contended scenario's shared hot orders and the version each is believed to be at.
final class HotOrders: Sendable {
    static let flow = ["pending", "confirmed", "processing", "shipped", "delivered"]
    private let versions: Mutex<[String: Int]>

    init(_ orderIds: [String]) {
        versions = Mutex(Dictionary(uniqueKeysWithValues: orderIds.map { ($0, 1) }))
    }

    /// An update of a random hot order to its next status, expecting the version last seen; or,
    /// when that order is delivered, the createOrder that replaces it.
    func next(_ items: Int, _ slot: inout Slot) -> (String, [String: Any]) {
        let picked = versions.withLock { $0.randomElement() }
        guard let (orderId, version) = picked, version < Self.flow.count else {
            if let (orderId, _) = picked { versions.withLock { $0[orderId] = nil } }
            return slot.create(items)
        }
        return ("updateStatus", ["orderId": orderId, "status": Self.flow[version], "expectedVersion": version])
    }

    /// Learns versions from an answer; false when it is an error other than a conflict.
    func learn(from response: [String: Any]) -> Bool {
        if let result = response["result"] as? [String: Any], let orderId = result["orderId"] as? String,
           let version = result["version"] as? Int {
            versions.withLock { $0[orderId] = max($0[orderId] ?? 0, version) }
            return true
        }
        guard let error = response["error"] as? [String: Any], error["code"] as? String == "concurrency_conflict" else {
            return response["ok"] as? Bool == true
        }
        if let orderId = error["orderId"] as? String, let actual = error["actualVersion"] as? Int {
            versions.withLock { if $0[orderId] != nil { $0[orderId] = max($0[orderId]!, actual) } }
        }
        return true
    }
}

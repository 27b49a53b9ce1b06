import Foundation
import EventLoops
import OrdersAPI
import OrdersDomain
import Synchronization

/// Load over the real protocol: `connections` connections driven by one event-loop thread, each
/// keeping `depth` requests in flight (a slot sends its next request when its answer comes). Runs
/// for `duration`, then
/// reports commands per second, latency percentiles, errors, the projection lag sampled every
/// 100 ms on a separate connection (and the time to drain after the load stops), and the lag as a
/// user sees it: a probe creating an order every 100 ms and timing until getOrder finds it.
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
    /// Send the load's requests over HTTP to this address instead (create and get only); the
    /// lag probes and the seed orders still use the line protocol at `host:port`.
    var http: (host: String, port: Int)? = nil

    struct UnsupportedOverHTTP: Error, CustomStringConvertible {
        let scenario: String
        var description: String { "the \(scenario) scenario is not sent over HTTP (create and get are)" }
    }

    func run() throws -> [String: Double] {
        if http != nil && scenario != "create" && scenario != "get" { throw UnsupportedOverHTTP(scenario: scenario) }
        let seedIds = scenario == "reads" || scenario == "get" ? try createSeedOrders(500) : []
        let hot = HotOrders(try scenario == "contended" ? createSeedOrders(10) : [])
        let stop = Atomic<Bool>(false)
        var all: [(latencies: [Double], byOp: [String: [Double]], errors: Int, conflicts: Int)] = []
        let lagSamples = Mutex<[(ms: Double, events: Double)]>([])
        let visibleSamples = Mutex<[Double]>([])
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
        // The lag as a user sees it: every 100 ms a probe creates an order and reads it back with
        // its position (getOrder waits until the read models have it); the time from the
        // create's answer to the read's answer.
        let probe = Thread { [self] in
            guard let client = try? OrdersClient(host: host, port: port) else { return }
            var slot = Slot(seed: 1 << 40)
            while !stop.load(ordering: .relaxed), ContinuousClock.now < end {
                let (op, parameters) = slot.create(itemsPerOrder)
                if let created = try? client.call(op, parameters.mapValues(\.foundationValue)) as? [String: Any],
                   let orderId = created["orderId"] as? String, let position = created["position"] as? String {
                    let answered = ContinuousClock.now
                    let found = (try? client.call("getOrder", ["orderId": orderId, "minPosition": position])) != nil
                    // Not found within the server's wait (2 s): counted as that wait.
                    visibleSamples.withLock { $0.append(found ? (ContinuousClock.now - answered).milliseconds : 2000) }
                }
                usleep(100_000)
            }
        }
        probe.start()

        // Every connection on one event loop thread (see LoadConnection).
        let loop = EventLoop(name: "orders-bench")
        let plan = LoadPlan(end: end, interval: rate.map { Duration.seconds(Double(connections * depth) / Double(max(1, $0))) },
                            seedIds: seedIds, hot: hot, limit: requestLimit, needsResults: scenario == "mix" || scenario == "contended")
        let finished = DispatchSemaphore(value: 0)
        let open = try (0..<connections).map { index in
            try LoadConnection(loop: loop, load: self, plan: plan, index: index) { finished.signal() }
        }
        for connection in open { loop.execute { connection.start() } }
        for _ in open { finished.wait() }
        all = open.map { ($0.latencies, $0.byOp, $0.errors, $0.conflicts) }
        let elapsed = (ContinuousClock.now - started).seconds
        let drainStarted = ContinuousClock.now
        let client = try OrdersClient(host: host, port: port)
        while try maxLag(client).events > 0, ContinuousClock.now - drainStarted < .seconds(60) { usleep(5_000) }
        let drain = (ContinuousClock.now - drainStarted).milliseconds
        stop.store(true, ordering: .relaxed)

        let latencies = all.flatMap(\.latencies).sorted()
        let lags = lagSamples.withLock { $0 }.map(\.ms).sorted()
        let visible = visibleSamples.withLock { $0 }.sorted()
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
                "visibleP50Ms": percentile(visible, 0.5), "visibleP99Ms": percentile(visible, 0.99),
                "visibleMaxMs": visible.last ?? 0, "visibleProbes": Double(visible.count),
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
            return (try client.call(op, parameters.mapValues(\.foundationValue)) as? [String: Any])?["orderId"] as? String ?? ""
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

    mutating func next(_ scenario: String, _ seedIds: [String], _ items: Int) -> (String, [String: JSON]) {
        switch scenario {
        case "get":
            return ("getOrder", ["orderId": .string(seedIds[random(seedIds.count)])])
        case "reads":
            switch random(4) {
            case 0: return ("getOrder", ["orderId": .string(seedIds[random(seedIds.count)])])
            case 1: return ("listOrders", ["status": "pending", "limit": 20])
            case 2: return ("summary", [:])
            default: return ("search", ["q": .string(["mug", "tea", "customer", "lamp"][random(4)]), "limit": 20])
            }
        case "mix":
            if let orderId, let position, random(10) == 0 {
                return ("getOrder", ["orderId": .string(orderId), "minPosition": .string(position)])
            }
            if let orderId {
                if step == 3 && random(20) == 0 {
                    step = 4 // the cancel ends this order's walk
                    return ("cancelOrder", ["orderId": .string(orderId), "reason": "bench"])
                }
                return ("updateStatus", ["orderId": .string(orderId),
                                         "status": .string(["confirmed", "processing", "shipped", "delivered"][step - 1])])
            }
            return create(items)
        default:
            return create(items)
        }
    }

    mutating func create(_ items: Int) -> (String, [String: JSON]) {
        let customer = random(5000)
        return ("createOrder", ["customerName": .string("Customer \(customer)"), "customerEmail": .string("customer\(customer)@example.com"),
                                "items": .array((0..<items).map { ["sku": .string("SKU-\($0)"), "name": .string(["Blue mug", "Green tea", "Desk lamp"][$0 % 3]),
                                                                   "quantity": JSON(1 + $0 % 3), "unitPrice": "9.99"] })])
    }

    /// Moves the walked order on after a successful answer to a command (reads change nothing).
    mutating func advance(with result: JSON?) {
        guard let result, let id = result["orderId"]?.string, let written = result["position"]?.string else { return }
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
    func next(_ items: Int, _ slot: inout Slot) -> (String, [String: JSON]) {
        let picked = versions.withLock { $0.randomElement() }
        guard let (orderId, version) = picked, version < Self.flow.count else {
            if let (orderId, _) = picked { versions.withLock { $0[orderId] = nil } }
            return slot.create(items)
        }
        return ("updateStatus", ["orderId": .string(orderId), "status": .string(Self.flow[version]), "expectedVersion": JSON(version)])
    }

    /// Learns versions from an answer; false when it is an error other than a conflict.
    func learn(from response: JSON) -> Bool {
        if let result = response["result"], let orderId = result["orderId"]?.string, let version = result["version"]?.int.map(Int.init) {
            versions.withLock { $0[orderId] = max($0[orderId] ?? 0, version) }
            return true
        }
        guard let error = response["error"], error["code"]?.string == "concurrency_conflict" else {
            return response["ok"] == .bool(true)
        }
        if let orderId = error["orderId"]?.string, let actual = error["actualVersion"]?.int.map(Int.init) {
            versions.withLock { if $0[orderId] != nil { $0[orderId] = max($0[orderId]!, actual) } }
        }
        return true
    }
}

extension JSON {
    /// The value as OrdersClient's requests take it.
    var foundationValue: Any {
        switch self {
        case .null: return NSNull()
        case .bool(let flag): return flag
        case .int(let number): return Int(number)
        case .double(let number): return number
        case .string(let text): return text
        case .array(let values): return values.map(\.foundationValue)
        case .object(let fields): return fields.mapValues(\.foundationValue)
        }
    }
}

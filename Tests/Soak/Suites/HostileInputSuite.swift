import Foundation
import OrdersDomain
import OrdersEventLog
import OrdersWriteSide
import OrdersReadSide
import OrdersAPI
import Synchronization

/// Suite 5: a protocol fuzzer (random and mutated valid requests, pipelined) on the line
/// protocol and on HTTP (`HTTPMutants`), while 1,000 idle connections and a few slow-loris
/// clients of each protocol (a byte a second, never a complete request) hold sockets open.
/// Every complete request gets one response with a documented code, the server's memory stays
/// bounded, no invalid request writes an event, and a valid client keeps being served.
public struct HostileInputSuite: Sendable {
    public var requests: Int
    /// Hostile HTTP messages, each on a connection of its own.
    public var httpRequests: Int
    public var fuzzers: Int
    public var idleConnections: Int
    public var slowClients: Int
    /// Growth of the server's resident memory that counts as unbounded.
    public var memoryLimit: Int

    public init(requests: Int = 100_000, httpRequests: Int = 20_000, fuzzers: Int = 4, idleConnections: Int = 1000, slowClients: Int = 5,
                memoryLimit: Int = 256 << 20) {
        self.requests = requests
        self.httpRequests = httpRequests
        self.fuzzers = fuzzers
        self.idleConnections = idleConnections
        self.slowClients = slowClients
        self.memoryLimit = memoryLimit
    }

    static let documentedCodes = Set(APIError.Code.allCases.map(\.rawValue))
    static let pipelineDepth = 8

    struct FuzzOutcome: Sendable {
        var sent = 0
        var acknowledgedWrites = 0
        var problems: [String] = []
    }

    public func run(_ environment: SoakEnvironment) async throws -> SuiteReport {
        var report = SuiteReport(suite: "5 hostile input")
        let started = ContinuousClock.now
        let namespace = environment.namespace("hostile")
        let service = try environment.service(namespace)
        try await service.start()
        defer { service.kill() }
        let port = service.port
        let httpPort = service.httpPort
        let store = environment.store(namespace)
        // One order for the mutants to aim at (they may delete it), one for the valid client.
        let orders = try await onThreads(1) { _ in
            try (0..<2).map { _ in
                let created = try OrdersClient(port: port).call("createOrder", ["customerName": "Ann Lee", "customerEmail": "ann@example.com",
                    "items": [["sku": "MUG-1", "name": "Blue mug", "quantity": 1, "unitPrice": "9.99"]]]) as! [String: Any]
                return (created["orderId"] as! String, created["position"] as! String)
            }
        }[0]
        let orderId = orders[0].0
        let valid = (orderId: orders[1].0, position: orders[1].1) // read with read-your-writes
        let baseline = service.residentBytes ?? 0
        let logBefore = try await store.log.appendedEvents()

        let shared = Shared(peak: baseline)
        // Idle and slow-loris connections, held open until the fuzzers are done.
        let holders = Task.detached { [idleConnections, slowClients] in
            try await onThreads(1) { _ -> Int in
                let idle = try (0..<idleConnections).map { _ in try OrdersClient(port: port, timeout: .seconds(1)) }
                let slow = try (0..<slowClients).map { _ in try OrdersClient(port: port, timeout: .seconds(1)) }
                let slowHTTP = try (0..<slowClients).map { _ in try OrdersClient(port: httpPort, timeout: .seconds(1)) }
                var bytes = 0
                var header = Array("GET /health/live HTTP/1.1\r\nX-Slow: ".utf8)
                header += Array(repeating: UInt8(ascii: "a"), count: 1 << 20)
                var sentHTTP = 0
                while shared.fuzzing.load(ordering: .relaxed) {
                    for client in slow { if (try? client.sendRaw([UInt8(ascii: "{")])) != nil { bytes += 1 } }
                    for client in slowHTTP { if (try? client.sendRaw([header[sentHTTP % header.count]])) != nil { bytes += 1 } }
                    sentHTTP += 1
                    shared.peak.max(service.residentBytes ?? 0)
                    for _ in 0..<10 where shared.fuzzing.load(ordering: .relaxed) {
                        usleep(100_000)
                        shared.peak.max(service.residentBytes ?? 0)
                    }
                }
                withExtendedLifetime(idle) {}
                return bytes
            }[0]
        }
        // A valid client, timed before and during the fuzzing.
        let latencyBefore = try await onThreads(1) { _ in try Self.validLatencies(port: port, order: valid, count: 200) }[0]
        let validClient = Task.detached {
            try await onThreads(1) { _ -> ([Duration], Int) in
                var latencies: [Duration] = []
                var creates = 0
                while shared.fuzzing.load(ordering: .relaxed) {
                    latencies += try Self.validLatencies(port: port, order: valid, count: 10)
                    creates += 5
                }
                return (latencies, creates)
            }[0]
        }
        let outcomes = try await onThreads(fuzzers) { [requests, httpRequests, fuzzers] worker in
            // Half the fuzzers speak the line protocol, half HTTP (at least one each).
            let http = worker % 2 == 1
            let share = max(1, http ? fuzzers / 2 : (fuzzers + 1) / 2)
            return http ? try Self.fuzzHTTP(port: httpPort, orderId: orderId, count: httpRequests / share, seed: UInt64(worker) + 1)
                        : try Self.fuzz(port: port, orderId: orderId, count: requests / share, seed: UInt64(worker) + 1)
        }
        shared.fuzzing.store(false, ordering: .relaxed)
        let slowBytes = try await holders.value
        let (latencyDuring, validCreates) = try await validClient.value

        report.sent = outcomes.map(\.sent).reduce(0, +)
        report.badInputs = report.sent
        report.acknowledged = outcomes.map(\.acknowledgedWrites).reduce(0, +)
        report.failures += outcomes.flatMap(\.problems).prefix(5)
        if kill(service.pid ?? 0, 0) != 0 {
            report.failures.append("the server died")
            report.crashes += 1
        }
        let logAfter = try await store.log.appendedEvents()
        let latencyCreates = latencyBefore.count / 2
        let expected = logBefore + report.acknowledged + latencyCreates + validCreates
        if logAfter != expected {
            report.failures.append("the log holds \(logAfter) events, but \(expected) writes were acknowledged")
        }
        let growth = shared.peak.load(ordering: .relaxed) - baseline
        if growth > memoryLimit { report.failures.append("server memory grew by \(growth >> 20) MiB") }
        let before = Self.percentile(latencyBefore, 0.99), during = Self.percentile(latencyDuring, 0.99)
        report.notes.append("\(report.sent) fuzzed lines and HTTP messages, \(idleConnections) idle and \(slowClients) slow-loris connections of each protocol (\(slowBytes) bytes trickled): server RSS \(baseline >> 20) MiB before, peak \(shared.peak.load(ordering: .relaxed) >> 20) MiB")
        report.notes.append("valid client p99 \(Int(before.seconds * 1000)) ms before, \(Int(during.seconds * 1000)) ms during (\(latencyDuring.count) requests)")
        report.seconds = (ContinuousClock.now - started).seconds
        return report
    }

    /// Sends `count` mutants, `pipelineDepth` at a time, and checks each answer.
    static func fuzz(port: Int, orderId: String, count: Int, seed: UInt64) throws -> FuzzOutcome {
        var generator = SeededGenerator(seed: seed)
        var outcome = FuzzOutcome()
        var client = try OrdersClient(port: port, timeout: .seconds(30))
        while outcome.sent < count {
            let batch = (0..<min(pipelineDepth, count - outcome.sent)).map { _ in Mutants.mutant(orderId: orderId, using: &generator) }
            try client.sendRaw(batch.flatMap { $0 + [0x0a] })
            outcome.sent += batch.count
            // Answers come in completion order (the protocol pairs them by id, which mutants may
            // have garbled), so a problem is reported with the whole batch.
            for _ in batch {
                guard let reply = try client.receiveLine() else {
                    outcome.problems.append("the server closed a connection")
                    client = try OrdersClient(port: port, timeout: .seconds(30))
                    break
                }
                guard let response = try? JSONSerialization.jsonObject(with: Data(reply)) as? [String: Any] else {
                    outcome.problems.append("unreadable response \(String(decoding: reply.prefix(80), as: UTF8.self))")
                    continue
                }
                if response["ok"] as? Bool == true {
                    if let result = response["result"] as? [String: Any], result["position"] != nil, result["duplicate"] == nil {
                        outcome.acknowledgedWrites += 1
                    }
                } else {
                    let code = (response["error"] as? [String: Any])?["code"] as? String ?? "none"
                    if !documentedCodes.contains(code) || code == "internal" {
                        let lines = batch.map { String(decoding: $0.prefix(200), as: UTF8.self).debugDescription }
                        outcome.problems.append("answered \(String(decoding: reply.prefix(300), as: UTF8.self)) to one of \(lines)")
                    }
                }
            }
        }
        return outcome
    }

    /// `count` valid requests, alternately a read and a create, each timed.
    static func validLatencies(port: Int, order: (orderId: String, position: String), count: Int) throws -> [Duration] {
        let client = try OrdersClient(port: port, timeout: .seconds(30))
        return try (0..<count).map { index in
            let began = ContinuousClock.now
            if index % 2 == 0 {
                _ = try client.call("getOrder", ["orderId": order.orderId, "minPosition": order.position])
            } else {
                _ = try client.call("createOrder", ["customerName": "Valid", "customerEmail": "valid@example.com",
                                                   "items": [["sku": "V", "name": "Valid", "quantity": 1, "unitPrice": "2.00"]]])
            }
            return ContinuousClock.now - began
        }
    }

    static func percentile(_ values: [Duration], _ fraction: Double) -> Duration {
        guard !values.isEmpty else { return .zero }
        let sorted = values.sorted()
        return sorted[min(sorted.count - 1, Int(Double(sorted.count) * fraction))]
    }
}

/// What the fuzzing threads share: whether to go on, and the highest server memory seen.
final class Shared: Sendable {
    let fuzzing = Atomic<Bool>(true)
    let peak: Atomic<Int>
    init(peak: Int) { self.peak = Atomic(peak) }
}

extension Atomic where Value == Int {
    func max(_ value: Int) {
        var current = load(ordering: .relaxed)
        while value > current {
            let (exchanged, original) = compareExchange(expected: current, desired: value, ordering: .relaxed)
            if exchanged { return }
            current = original
        }
    }
}

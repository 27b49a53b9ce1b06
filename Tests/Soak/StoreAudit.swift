import Foundation
import OrdersDomain
import OrdersEventLog
import OrdersWriteSide
import OrdersReadSide
import RedisClient

/// Compares the store with a ledger and the read models with a rebuild: the checks every
/// breaking suite ends with, over every partition of the store.
public struct StoreAudit: Sendable {
    public let store: EventStore

    public init(store: EventStore) {
        self.store = store
    }

    public struct Findings: Sendable {
        /// Acknowledged commands without their event.
        public var lost = 0
        /// Command ids whose event is stored more than once.
        public var duplicated = 0
        /// Events of commands that were refused, or never sent.
        public var unexpected = 0
        /// Orders whose stream has a version gap or differs from the log.
        public var broken: [String] = []
        public var events = 0
    }

    /// Every acknowledged command's event exists exactly once in its order's stream (the store;
    /// the log is the bus, trimmed behind the projections); refused commands wrote nothing; no
    /// stream has a gap; the log counted as many appends as the streams hold, and each entry it
    /// still keeps names its event in the order's stream.
    public func check(_ ledger: CommandLedger) async throws -> Findings {
        var findings = Findings()
        var streams: [String: [RecordedEvent]] = [:]
        for log in store.logs.partitions {
            var cursor = "0"
            repeat {
                let (next, orderIds) = try await log.orderStreams(from: cursor)
                cursor = next
                for (orderId, events) in try await log.histories(of: orderIds) { streams[orderId] = events }
            } while cursor != "0"
        }
        findings.events = streams.values.reduce(0) { $0 + $1.count }
        var stored: [String: Int] = [:]
        for events in streams.values {
            for event in events { stored[event.metadata?.commandId ?? "", default: 0] += 1 }
        }
        let outcomes = ledger.all
        for (commandId, outcome) in outcomes {
            let count = stored[commandId] ?? 0
            switch outcome {
            case .acknowledged where count == 0: findings.lost += 1
            case .refused where count > 0: findings.unexpected += 1
            default: break
            }
        }
        findings.duplicated = stored.filter { $0.key != "" && $0.value > 1 }.count
        findings.unexpected += stored.keys.filter { $0 != "" && outcomes[$0] == nil }.count

        for (orderId, stream) in streams where stream.map(\.version) != Array(1...max(1, stream.count)) {
            findings.broken.append(orderId)
        }
        // The log: one entry appended per event, and what it keeps names the streams' events
        // (reading it resolves every reference and fails on one its stream does not hold).
        var kept: [RecordedEvent] = []
        for log in store.logs.partitions {
            var position: LogPosition?
            while true {
                let page = try await log.readLog(after: position, limit: 10_000)
                guard let last = page.last else { break }
                kept += page
                position = last.position
            }
        }
        for event in kept where streams[event.orderId]?.contains(where: { $0.position == event.position && $0.version == event.version }) != true {
            findings.broken.append(event.orderId)
        }
        var appended = 0
        for log in store.logs.partitions { appended += try await log.appendedEvents() }
        if appended != findings.events { findings.broken.append("(the log counted \(appended) appends, the streams hold \(findings.events) events)") }
        return findings
    }

    /// Waits until the live generation of both projections has applied and acknowledged the
    /// whole log (nothing pending up to its head).
    public func converge(within limit: Duration) async throws {
        for log in store.logs.partitions {
            guard let head = try await log.lastPosition() else { continue }
            let monitor = ProjectionMonitor(log: log)
            let generations = LiveGenerations(log: log)
            try await eventually(within: limit) {
                let live = try await generations.live(Projections.standard.names)
                for (name, generation) in live where try await !monitor.hasPassed(head, projection: name, generation: generation) {
                    throw NotConverged(projection: name)
                }
            }
        }
    }

    struct NotConverged: Error, CustomStringConvertible {
        let projection: String
        var description: String { "the \(projection) projection did not catch up with the log" }
    }

    /// Every live read model, canonical (see `dumpReadModel`).
    public func liveModels() async throws -> [String: String] {
        var models: [String: String] = [:]
        for log in store.logs.partitions {
            let live = try await LiveGenerations(log: log).live(Projections.standard.names)
            for (name, generation) in live {
                for (key, value) in try await dumpReadModel(store, ViewKeys(keys: log.keys, projection: name, generation: generation)) {
                    models["\(log.keys.partition):\(name):\(key)"] = value
                }
            }
        }
        return models
    }

    /// Rebuilds both read models from the log and tells whether they equal `models` (taken from
    /// the live ones once converged). Nothing else may project meanwhile: stop the services first.
    public func rebuildEquals(_ models: [String: String]) async throws -> Bool {
        try await PartitionedReplay(logs: store.logs, dropGrace: .zero).rebuild(["order", "summary"])
        let rebuilt = try await liveModels()
        // Which keys differ, for whoever reads the failure (the first few, shortened).
        for key in Set(rebuilt.keys).union(models.keys).sorted().filter({ rebuilt[$0] != models[$0] }).prefix(5) {
            FileHandle.standardError.write(Data("audit: the rebuild differs at \(key): live \(models[key]?.prefix(200) ?? "none"), rebuilt \(rebuilt[key]?.prefix(200) ?? "none")\n".utf8))
        }
        return rebuilt == models
    }
}

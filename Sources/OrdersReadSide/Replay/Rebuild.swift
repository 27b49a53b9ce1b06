import RedisClient
import Synchronization
import OrdersDomain
import OrdersEventLog

/// A log entry with its domain event decoded (nil when it cannot be read), shared by the
/// projections a rebuild folds.
struct DecodedEvent: Sendable {
    let recorded: RecordedEvent
    let event: OrderEvent?
}

/// One projection being rebuilt into a new generation (type-erased so one log pass feeds all).
protocol RebuildTarget: Sendable {
    var name: String { get }
    var schema: Int { get }
    var generation: Int { get }
    func fold(_ events: [DecodedEvent])
    func write(redis: RedisClient, checkpoint: () async throws -> Void) async throws
    func createGroup(at position: LogPosition?) async throws
    func caughtUp(to position: LogPosition?) async throws -> Bool
    func step() async throws
}

/// Folds each order's final state in memory (the log is read in order from its start, so no
/// gap ever needs an order's history), then writes each order once: the changes from nothing to
/// its final state, through a `GenerationWriter` (where the summary's counters add up).
final class Rebuild<P: Projection>: RebuildTarget {
    let projector: Projector<P>
    private let states = Mutex<[String: (version: Int, state: P.State?)]>([:])

    init(_ projection: P, log: EventLog, generation: Int, settings: ProjectorSettings) {
        projector = Projector(projection: projection, log: log, generation: generation, settings: settings)
    }

    var name: String { P.name }
    var schema: Int { P.schemaVersion }
    var generation: Int { projector.view.generation }

    func fold(_ events: [DecodedEvent]) {
        let projection = projector.projection
        states.withLock { states in
            for decoded in events {
                let event = decoded.recorded
                let (version, state) = states[event.orderId] ?? (0, nil)
                // An event that cannot be read stops its order where it is, as in the live projector.
                guard let next = projection.step(event, decoded: decoded.event, from: version, state) else { continue }
                states[event.orderId] = next
            }
        }
    }

    func write(redis: RedisClient, checkpoint: () async throws -> Void) async throws {
        let writer = GenerationWriter(redis: redis)
        let view = projector.view
        let projection = projector.projection
        var written = 0
        for (orderId, entry) in states.withLock({ $0 }) {
            let (changes, guardValue) = projection.changes(for: orderId, from: nil, to: entry.state, version: entry.version, in: view)
            try await writer.add(changes, guardLocation: projection.guardLocation(of: orderId, in: view), guardValue: guardValue)
            written += 1
            if written % 5000 == 0 { try await checkpoint() }
        }
        try await writer.finish()
    }

    func createGroup(at position: LogPosition?) async throws {
        try await projector.createGroup(at: position?.description ?? "0")
    }

    func caughtUp(to position: LogPosition?) async throws -> Bool {
        guard let position else { return true }
        return try await ProjectionMonitor(log: projector.log).hasPassed(position, projection: P.name, generation: generation)
    }

    func step() async throws {
        try await projector.step()
        try await projector.claimStalled()
    }
}

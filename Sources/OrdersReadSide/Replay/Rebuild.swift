import RedisClient
import Synchronization
import OrdersDomain
import OrdersEventLog

/// One projection being rebuilt into a new generation (type-erased so one pass over the orders
/// feeds all).
protocol RebuildTarget: Sendable {
    var name: String { get }
    var schema: Int { get }
    var generation: Int { get }
    /// Folds one order's whole history and writes the result (buffered).
    func add(_ orderId: String, _ events: [DecodedEvent]) async throws
    /// Writes what is still buffered (the summed counters among it).
    func finish() async throws
    /// Creates the generation's consumer group at the log's head, its checkpoint there; returns it.
    func createGroupAtHead() async throws -> LogPosition?
    /// Creates the generation's consumer group, and its checkpoint, at a given position.
    func createGroup(at position: LogPosition?) async throws
    func caughtUp(to position: LogPosition?) async throws -> Bool
    func step() async throws
    func release() async
}

/// Folds one order at a time, from its whole stream, and writes its final state at once: the
/// changes from nothing to that state, through a `GenerationWriter` (where the summary's
/// counters add up). Nothing per order is kept after it is written, so memory does not grow
/// with the store.
final class Rebuild<P: Projection>: RebuildTarget, @unchecked Sendable {
    // @unchecked: `writer` is used by one rebuild task at a time (orders are added in turn).
    let projector: Projector<P>
    private let writer: GenerationWriter

    init(_ projection: P, log: EventLog, generation: Int, settings: ProjectorSettings) {
        projector = Projector(projection: projection, log: log, generation: generation, settings: settings)
        writer = GenerationWriter(redis: log.redis)
    }

    var name: String { P.name }
    var schema: Int { P.schemaVersion }
    var generation: Int { projector.view.generation }

    func add(_ orderId: String, _ events: [DecodedEvent]) async throws {
        // An event that cannot be read stops its order where it is, as in the live projector.
        let (version, state, _) = projector.projection.fold(decoded: events, from: 0, nil)
        guard version > 0 else { return }
        var batch = ProjectionBatch()
        projector.projection.write(orderId, from: nil, to: state, into: &batch, in: projector.view)
        try await writer.add(batch)
    }

    func finish() async throws {
        try await writer.finish()
    }

    /// The generation starts from what the rebuild folded: the log up to `position`.
    func createGroupAtHead() async throws -> LogPosition? {
        try await projector.createGroupAtHead()
    }

    func createGroup(at position: LogPosition?) async throws {
        try await projector.createGroup(at: position?.description ?? "0", checkpoint: position)
    }

    func caughtUp(to position: LogPosition?) async throws -> Bool {
        guard let position else { return true }
        return try await ProjectionMonitor(log: projector.log).hasPassed(position, projection: P.name, generation: generation)
    }

    func step() async throws {
        try await projector.step()
    }

    /// Lets the live projectors of this generation take over at once after the switch.
    func release() async {
        await projector.release()
    }
}

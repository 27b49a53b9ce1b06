import OrdersDomain
import OrdersEventLog

/// Runs one command against one order: load (snapshot + events), decide, append.
///
/// Concurrency: without an `expectedVersion` from the caller, a conflict means another writer got
/// in between our load and our append; the handler reloads and decides again (a few times). With
/// one, the caller asked for that exact version, so a mismatch is reported, never retried.
///
/// Idempotency: a command id seen before returns the first result. It is looked up before deciding
/// (the first attempt may already have changed the state, so deciding again would refuse) and
/// again after a refusal (a concurrent first attempt may have landed in between); the append
/// function itself checks it once more, atomically.
public final class CommandHandler: Sendable {
    public let repository: OrderRepository
    private let clock: @Sendable () -> Timestamp
    private let newOrderId: @Sendable () -> String
    static let conflictRetries = 5

    public init(repository: OrderRepository, clock: @escaping @Sendable () -> Timestamp = { .now() },
                newOrderId: @escaping @Sendable () -> String = RandomIdentifiers.uuid) {
        self.repository = repository
        self.clock = clock
        self.newOrderId = newOrderId
    }

    public struct Request: Sendable {
        public var orderId: String?
        public var command: OrderCommand
        public var expectedVersion: Int?
        public var commandId: String?
        public var correlationId: String?

        public init(orderId: String?, command: OrderCommand, expectedVersion: Int? = nil,
                    commandId: String? = nil, correlationId: String? = nil) {
            self.orderId = orderId
            self.command = command
            self.expectedVersion = expectedVersion
            self.commandId = commandId
            self.correlationId = correlationId
        }
    }

    public enum Failure: Error, Sendable, Equatable {
        case domain(DomainError)
        case store(EventStoreError)
        /// The command id was first used for a command on another order: not a retry of this one.
        case commandIdReused(String)
    }

    public func handle(_ request: Request) async throws(Failure) -> AppendResult {
        var store: EventStore { repository.store }
        if let commandId = request.commandId {
            guard Identifier.isValid(commandId) else {
                throw .domain(.validation("commandId must be 1-64 letters, digits, '-' or '_'"))
            }
            if let first = try await recorded(commandId) {
                do { try request.command.validate() } catch { throw .domain(error) }
                return try retried(first, by: request)
            }
        }
        let orderId: String
        var freshId = false
        if case .create(_, let email, _) = request.command {
            freshId = request.orderId == nil
            orderId = request.orderId ?? newOrderId(inPartitionOf: email)
            let layout = repository.store.layout
            if !freshId && layout.partition(ofOrder: orderId) != layout.partition(ofCustomer: email) {
                // A customer's orders live in one partition (so their listing and their figures
                // come from one place, exactly); an id chosen by the client must hash there.
                throw .domain(.validation("orderId \(orderId.prefix(80)) does not belong to this customer's partition of the store's \(layout.count); leave orderId out to have one generated"))
            }
        } else {
            guard let id = request.orderId else { throw .domain(.validation("orderId is required")) }
            orderId = id
        }
        guard Identifier.isValid(orderId) else {
            throw .domain(.notFound("order \(orderId.prefix(80)) does not exist"))
        }
        let metadata = EventMetadata(commandId: request.commandId, correlationId: request.correlationId,
                                     schemaVersion: OrderEventCoding.schemaVersion)

        for attempt in 0...Self.conflictRetries {
            let aggregate: OrderAggregate
            if freshId && attempt == 0 {
                // An id generated just now has no events: skip the two reads of a load. The append
                // still expects "no stream", so even a collision could not overwrite anything.
                aggregate = OrderAggregate(orderId: orderId)
            } else {
                do { aggregate = try await repository.load(orderId) } catch { throw .store(EventStoreError.from(error)) }
            }
            // An order that does not exist is not found, whatever version the client expected.
            if let expected = request.expectedVersion, expected != aggregate.version, aggregate.version > 0 || freshId {
                throw .store(.concurrencyConflict(orderId: orderId, expected: .exactly(expected), actual: aggregate.version))
            }
            let events: [OrderEvent]
            do {
                events = try aggregate.decide(request.command)
            } catch {
                if let commandId = request.commandId, let first = try await recorded(commandId) { return try retried(first, by: request) }
                throw .domain(error)
            }
            do {
                let expected: ExpectedVersion = aggregate.version == 0 ? .noStream : .exactly(aggregate.version)
                return try await repository.save(aggregate, events: events, expected: expected,
                                                  metadata: metadata, at: clock()).0
            } catch let error as EventStoreError {
                if case .concurrencyConflict = error, request.expectedVersion == nil, attempt < Self.conflictRetries {
                    continue
                }
                throw .store(error)
            } catch {
                throw .store(EventStoreError.from(error))
            }
        }
        preconditionFailure("the loop returns or throws on its last attempt")
    }

    /// A new id whose partition is the customer's, so that a customer's orders stay together
    /// (one partition to list them, top customers exact from each partition's own). Ids are
    /// drawn until one lands there: P draws on average (random ids miss 100,000 P times running
    /// with odds below e^-100,000).
    private func newOrderId(inPartitionOf email: String) -> String {
        let layout = repository.store.layout
        guard layout.count > 1 else { return newOrderId() }
        let target = layout.partition(ofCustomer: email)
        for _ in 0..<(100_000 * layout.count) {
            let id = newOrderId()
            if layout.partition(ofOrder: id) == target { return id }
        }
        preconditionFailure("the order id source never reaches partition \(target) of \(layout.count)")
    }

    /// The first result of a command id, for a retry: refused when the request names another
    /// order than the first did (a create names none, and its result is its new order's), since
    /// answering it with another order's result would tell the client its command ran.
    private func retried(_ first: AppendResult, by request: Request) throws(Failure) -> AppendResult {
        if let orderId = request.orderId, orderId != first.orderId {
            throw .commandIdReused("commandId \(request.commandId ?? "") was used for a command on another order; use a new one for this command")
        }
        return first
    }

    private func recorded(_ commandId: String) async throws(Failure) -> AppendResult? {
        do { return try await repository.store.recordedResult(commandId: commandId) } catch { throw .store(error) }
    }
}

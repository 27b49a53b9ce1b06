/// One order's write-side state, rebuilt by folding its events (optionally from a snapshot).
///
/// `decide` is pure: it checks a command against the rules and the current state and returns the
/// events it would cause, or throws. `apply` moves the state forward by one stored event.
/// Nothing here does I/O, so every rule is testable without Redis.
public struct OrderAggregate: Sendable, Hashable, Codable {
    public struct State: Sendable, Hashable, Codable {
        public var customerName: String
        public var customerEmail: String
        public var items: [OrderItem]
        public var status: OrderStatus
        /// Every status the order had, with when; kept so a read model can be rebuilt from a
        /// snapshot as well as from the events.
        public var statusHistory: [StatusChange]
        public var cancelReason: String?
        public var deleted: Bool
        public var createdAt: Timestamp
        public var updatedAt: Timestamp

        public var total: Money { items.reduce(.zero) { $0 + $1.lineTotal } }
    }

    public let orderId: String
    /// Number of events applied: the version the next append expects.
    public private(set) var version: Int
    /// Nil until the order is created.
    public private(set) var state: State?

    public struct StatusChange: Sendable, Hashable, Codable {
        public var status: OrderStatus
        public var at: Timestamp

        public init(status: OrderStatus, at: Timestamp) {
            self.status = status
            self.at = at
        }
    }

    /// Bump when `State`'s stored shape changes: snapshots of another schema are ignored.
    public static let snapshotSchema = 2

    public init(orderId: String) {
        self.orderId = orderId
        self.version = 0
        self.state = nil
    }

    public var exists: Bool { state.map { !$0.deleted } ?? false }

    public func decide(_ command: OrderCommand) throws(DomainError) -> [OrderEvent] {
        if case .create(let name, let email, let items) = command {
            guard state == nil else { throw .invalidTransition("order \(orderId) already exists") }
            try OrderRules.validateCreate(customerName: name, customerEmail: email, items: items)
            return [.created(OrderCreated(customerName: name, customerEmail: email, items: items))]
        }
        guard let state, !state.deleted else { throw .notFound("order \(orderId) does not exist") }
        switch command {
        case .create:
            preconditionFailure("handled above")
        case .updateStatus(let target):
            if target == state.status {
                throw .invalidTransition("order \(orderId) is already \(target.rawValue)")
            }
            if target == .cancelled {
                throw .invalidTransition("use cancelOrder to cancel order \(orderId)")
            }
            guard state.status.next == target else {
                let allowed = state.status.next.map { "only \($0.rawValue)" } ?? "nothing: \(state.status.rawValue) is final"
                throw .invalidTransition("order \(orderId) cannot go from \(state.status.rawValue) to \(target.rawValue); allowed next: \(allowed)")
            }
            return [.statusChanged(OrderStatusChanged(from: state.status, to: target))]
        case .cancel(let reason):
            guard state.status.canBeCancelled else {
                throw .invalidTransition("order \(orderId) is \(state.status.rawValue) and can no longer be cancelled")
            }
            try OrderRules.validateReason(reason)
            return [.cancelled(OrderCancelled(from: state.status, reason: reason))]
        case .delete:
            return [.deleted(OrderDeleted())]
        }
    }

    /// Applies one stored event. Events come from the store, so they are trusted to fit the
    /// state; one that does not (a created order created again) is ignored rather than trapping.
    public mutating func apply(_ event: OrderEvent, at time: Timestamp) {
        version += 1
        switch event {
        case .created(let created):
            guard state == nil else { return }
            state = State(customerName: created.customerName, customerEmail: created.customerEmail,
                          items: created.items, status: .pending, statusHistory: [StatusChange(status: .pending, at: time)],
                          cancelReason: nil, deleted: false, createdAt: time, updatedAt: time)
        case .statusChanged(let change):
            state?.status = change.to
            state?.statusHistory.append(StatusChange(status: change.to, at: time))
            state?.updatedAt = time
        case .cancelled(let cancelled):
            state?.status = .cancelled
            state?.statusHistory.append(StatusChange(status: .cancelled, at: time))
            state?.cancelReason = cancelled.reason
            state?.updatedAt = time
        case .deleted:
            state?.deleted = true
            state?.updatedAt = time
        }
    }

    /// Restores an aggregate from a snapshot's stored form.
    init(orderId: String, version: Int, state: State?) {
        self.orderId = orderId
        self.version = version
        self.state = state
    }
}

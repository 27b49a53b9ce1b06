import OrdersDomain
import OrdersEventLog
/// One order as the read side shows it: what `getOrder` returns and what the indexes point to.
/// Built by folding events; a pure value, so the projection is testable without Redis.
public struct OrderView: Sendable, Hashable, Codable {
    public typealias StatusChange = OrderAggregate.StatusChange

    public var orderId: String
    public var customerName: String
    public var customerEmail: String
    public var items: [OrderItem]
    public var status: OrderStatus
    public var statusHistory: [StatusChange]
    public var cancelReason: String?
    public var createdAt: Timestamp
    public var updatedAt: Timestamp
    public var version: Int

    public init(orderId: String, customerName: String, customerEmail: String, items: [OrderItem], status: OrderStatus,
                statusHistory: [StatusChange], cancelReason: String?, createdAt: Timestamp, updatedAt: Timestamp, version: Int) {
        self.orderId = orderId
        self.customerName = customerName
        self.customerEmail = customerEmail
        self.items = items
        self.status = status
        self.statusHistory = statusHistory
        self.cancelReason = cancelReason
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.version = version
    }

    public var total: Money { items.reduce(.zero) { $0 + $1.lineTotal } }
    public var itemCount: Int { items.reduce(0) { $0 + $1.quantity } }

    /// The view after one more event. `nil` in or out means "no visible order": not created yet,
    /// or deleted (deleted orders leave every query).
    public static func applying(_ event: OrderEvent, of recorded: RecordedEvent, to view: OrderView?) -> OrderView? {
        switch event {
        case .created(let created):
            return OrderView(orderId: recorded.orderId, customerName: created.customerName,
                             customerEmail: created.customerEmail, items: created.items, status: .pending,
                             statusHistory: [StatusChange(status: .pending, at: recorded.occurredAt)],
                             cancelReason: nil, createdAt: recorded.occurredAt, updatedAt: recorded.occurredAt,
                             version: recorded.version)
        case .statusChanged(let change):
            guard var view else { return nil }
            view.status = change.to
            view.statusHistory.append(StatusChange(status: change.to, at: recorded.occurredAt))
            view.updatedAt = recorded.occurredAt
            view.version = recorded.version
            return view
        case .cancelled(let cancelled):
            guard var view else { return nil }
            view.status = .cancelled
            view.cancelReason = cancelled.reason
            view.statusHistory.append(StatusChange(status: .cancelled, at: recorded.occurredAt))
            view.updatedAt = recorded.occurredAt
            view.version = recorded.version
            return view
        case .deleted:
            return nil
        }
    }

    /// The folded words (`TextFolding.words`) of the customer's name and email, the order id and
    /// every item's name and sku: what `search` matches by prefix. Only words: a query is split
    /// into words too, so a whole text ("blue mug", "ann@example.com") would match exactly what
    /// its first word matches.
    public var searchTerms: Set<String> {
        textWords.union(idWords)
    }

    /// The words of what people typed (the customer's name and email, the items' names and
    /// skus): each has a set of orders in the index.
    public var textWords: Set<String> {
        var words = Set<String>()
        for text in [customerName, customerEmail] + items.flatMap({ [$0.name, $0.sku] }) {
            words.formUnion(TextFolding.words(text))
        }
        return words
    }

    /// The words of the order id (its five hex groups): random, so the index keeps them as
    /// `<word>\0<orderId>` entries of one sorted set rather than five sets of one order each.
    public var idWords: Set<String> {
        Set(TextFolding.words(orderId))
    }
}

extension OrderView {
    /// The view of an order rebuilt from its aggregate (a snapshot plus later events), or nil
    /// when it is not visible (not created, or deleted).
    public init?(_ aggregate: OrderAggregate) {
        guard let state = aggregate.state, !state.deleted else { return nil }
        self.init(orderId: aggregate.orderId, customerName: state.customerName, customerEmail: state.customerEmail,
                  items: state.items, status: state.status, statusHistory: state.statusHistory,
                  cancelReason: state.cancelReason, createdAt: state.createdAt, updatedAt: state.updatedAt,
                  version: aggregate.version)
    }
}

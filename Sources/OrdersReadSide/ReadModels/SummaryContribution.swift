import OrdersDomain
import OrdersEventLog
/// What one order adds to the sales summary. The summary is the sum of every order's
/// contribution, so applying an event means subtracting the order's old contribution and adding
/// its new one: the summary can never drift from a recount.
///
/// - every visible (not deleted) order counts once in `orders`, in its status, in its customer's
///   order count and in its creation day's order count;
/// - revenue is the total of every visible order that is not cancelled (open and delivered
///   orders alike), credited to its customer and its creation day (UTC).
public struct SummaryContribution: Sendable, Hashable {
    public var status: OrderStatus
    public var total: Money
    /// The customer's key: the email, folded (`TextFolding.fold`).
    public var customerEmail: String
    public var day: String

    public var revenue: Money { status == .cancelled ? .zero : total }

    public init(status: OrderStatus, total: Money, customerEmail: String, day: String) {
        self.status = status
        self.total = total
        self.customerEmail = customerEmail
        self.day = day
    }

    public init(_ view: OrderView) {
        self.init(status: view.status, total: view.total, customerEmail: TextFolding.fold(view.customerEmail),
                  day: view.createdAt.day)
    }
}

/// Where an order is in its life. The flow is pending → confirmed → processing → shipped →
/// delivered; an order can be cancelled while pending, confirmed or processing. Delivered and
/// cancelled are final.
public enum OrderStatus: String, Sendable, Codable, CaseIterable, Comparable {
    case pending, confirmed, processing, shipped, delivered, cancelled

    /// The one status `updateStatus` may move to next (cancelling has its own command).
    public var next: OrderStatus? {
        switch self {
        case .pending: return .confirmed
        case .confirmed: return .processing
        case .processing: return .shipped
        case .shipped: return .delivered
        case .delivered, .cancelled: return nil
        }
    }

    public var canBeCancelled: Bool { self == .pending || self == .confirmed || self == .processing }

    public static func < (a: OrderStatus, b: OrderStatus) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }
}

/// The read models this service keeps. Live generations, replay, status, redrive and `orders
/// serve` iterate this list: adding a read model is a new `Projection` and one line here.
public enum Projections {
    public static let standard: [any Projection] = [OrderProjection(), SummaryProjection()]
}

extension Array where Element == any Projection {
    public var names: [String] { map { type(of: $0).name } }

    public func named(_ name: String) -> (any Projection)? {
        first { type(of: $0).name == name }
    }
}

/// Every operation of the API, each named once. The routers are built from a catalogue, so an
/// operation served by one protocol and missing from the other, or from the metrics, or from the
/// OpenAPI document (`OpenAPIDocumentTests`), cannot happen by omission.
public struct OperationCatalogue: Sendable {
    /// What the routers need of one operation, its types erased.
    public struct Entry: Sendable {
        public let name: String
        public let route: HTTPRoute
        let http: @Sendable (HTTPCall, APIContext) async throws -> HTTPResponse
        /// nil: HTTP only.
        var line: (@Sendable (RequestFields, APIContext) async throws -> [UInt8])?

        public var onLineProtocol: Bool { line != nil }

        /// An operation HTTP serves (and, below, the line protocol too).
        init<Operation: APIOperation>(httpOnly operation: Operation.Type) {
            name = Operation.name
            route = Operation.route
            http = { call, api in
                let input = try Operation.input(http: call)
                return try Operation.response(http: try await Operation.perform(input, api), to: input)
            }
            line = nil
        }

        init<Operation: LineOperation>(_ operation: Operation.Type) {
            self.init(httpOnly: operation)
            line = { request, api in
                try Operation.result(line: try await Operation.perform(try Operation.input(line: request), api))
            }
        }
    }

    public let entries: [Entry]
    private let byName: [String: Entry]

    public init(_ operations: [any APIOperation.Type]) {
        self.init(entries: operations.map(Self.entry))
    }

    /// From entries built with each operation's own type, so that the compiler specializes its
    /// handlers (the standard catalogue's, on every request's path).
    init(entries: [Entry]) {
        self.entries = entries
        byName = Dictionary(entries.map { ($0.name, $0) }) { first, _ in first }
        precondition(byName.count == entries.count, "two operations share a name")
        precondition(Set(entries.map(\.route.description)).count == entries.count, "two operations share a method and path")
    }

    /// This catalogue and `operations` (a query of a projection added beside the standard ones).
    public func adding(_ operations: [any APIOperation.Type]) -> OperationCatalogue {
        OperationCatalogue(entries: entries + operations.map(Self.entry))
    }

    public func entry(named name: String) -> Entry? { byName[name] }

    private static func entry(_ operation: any APIOperation.Type) -> Entry {
        if let line = operation as? any LineOperation.Type { return Entry(line) }
        return Entry(httpOnly: operation)
    }

    /// The service's operations: commands, queries of the read models, the operator's calls,
    /// and HTTP's probes, metrics and document.
    public static let standard = OperationCatalogue(entries: [
        Entry(CreateOrder.self), Entry(UpdateStatus.self), Entry(CancelOrder.self), Entry(DeleteOrder.self),
        Entry(GetOrder.self), Entry(ListOrders.self), Entry(ListOrdersByStatus.self), Entry(ListOrdersByCustomer.self),
        Entry(SearchOrders.self), Entry(GetSummary.self), Entry(GetTopCustomers.self),
        Entry(GetOrderHistory.self), Entry(GetOrderAsOf.self), Entry(TakeSnapshot.self),
        Entry(GetProjectionStatus.self), Entry(StartReplay.self), Entry(GetReplayStatus.self), Entry(CancelReplay.self),
        Entry(ListDeadLetters.self), Entry(RedriveDeadLetters.self), Entry(GetHealth.self),
        Entry(httpOnly: LiveProbe.self), Entry(httpOnly: ReadyProbe.self), Entry(httpOnly: ScrapeMetrics.self),
        Entry(httpOnly: GetOpenAPIDocument.self),
    ])
}

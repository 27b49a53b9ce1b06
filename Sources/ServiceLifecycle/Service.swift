/// A long-running part of a process: it runs until its task is cancelled, and then stops in an
/// orderly way (a server answers what is in flight, a projector finishes its batch). Returning
/// before that is allowed for work that ends by itself (a recovery at start-up); throwing means
/// the service failed, and its group shuts the others down (swift-service-lifecycle's model,
/// written here: the project takes no packages).
public protocol Service: Sendable {
    /// The name the log gives it.
    var name: String { get }
    func run() async throws
}

extension Service {
    public var name: String { String(describing: Self.self) }
}

/// A service from a closure, for work that is one call (`server.run(grace:)`).
public struct ServiceRun: Service {
    public let name: String
    private let body: @Sendable () async throws -> Void

    public init(_ name: String, _ body: @escaping @Sendable () async throws -> Void) {
        self.name = name
        self.body = body
    }

    public func run() async throws { try await body() }
}

/// A service run on an executor of the caller's choice (an event loop), so that its own work and
/// its connections' stay on one thread.
public struct OnExecutor<Base: Service>: Service {
    let base: Base
    let executor: any TaskExecutor

    public init(_ base: Base, executor: any TaskExecutor) {
        self.base = base
        self.executor = executor
    }

    public var name: String { base.name }

    public func run() async throws {
        try await withTaskExecutorPreference(executor) { try await base.run() }
    }
}

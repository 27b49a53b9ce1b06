import Synchronization

/// Runs services together and owns their end: on the first termination signal, or when a
/// service fails, it shuts them down one by one in the reverse of the order given (so list what
/// others depend on first: projectors before the servers that answer clients, which stop first),
/// each cancelled and awaited before the next. `run` returns once all have stopped, and throws
/// the first failure if there was one.
public final class ServiceGroup: Sendable {
    let services: [any Service]
    let signals: TerminationSignals?
    let observe: @Sendable (Event) -> Void

    /// What the group does, for the caller's log.
    public enum Event: Sendable {
        case failed(service: String, error: any Error)
        case stopping(Reason)
        case stopped(service: String)
    }

    /// `signals`: nil runs until a service fails or the calling task is cancelled (tests).
    public init(services: [any Service], signals: TerminationSignals? = TerminationSignals(),
                observe: @escaping @Sendable (Event) -> Void = { _ in }) {
        self.services = services
        self.signals = signals
        self.observe = observe
    }

    /// Why the group shut down.
    public enum Reason: Sendable, Equatable, CustomStringConvertible {
        case signal(String)
        case failed(service: String)
        case cancelled

        public var description: String {
            switch self {
            case .signal(let name): name
            case .failed(let service): "\(service) failed"
            case .cancelled: "cancelled"
            }
        }
    }

    /// What `run` throws when a service failed: which, and its error as text (the log has it).
    public struct Failure: Error, Sendable, CustomStringConvertible {
        public let service: String
        public let error: String
        public var description: String { "\(service) failed: \(error)" }
    }

    private final class FirstFailure: Sendable {
        private let failure = Mutex<Failure?>(nil)
        func record(_ new: Failure) { failure.withLock { if $0 == nil { $0 = new } } }
        var first: Failure? { failure.withLock { $0 } }
    }

    @discardableResult
    public func run() async throws -> Reason {
        let (events, sink) = AsyncStream.makeStream(of: Reason.self)
        let firstFailure = FirstFailure()
        let tasks = services.map { service in
            Task {
                do {
                    try await service.run()
                } catch where !Task.isCancelled {
                    observe(.failed(service: service.name, error: error))
                    firstFailure.record(Failure(service: service.name, error: "\(error)"))
                    sink.yield(.failed(service: service.name))
                } catch {
                    // Cancelled: a shutdown in progress, whatever the service threw on its way out.
                }
            }
        }
        signals?.onSignal { sink.yield(.signal($0)) }
        let reason = await withTaskCancellationHandler {
            var iterator = events.makeAsyncIterator()
            return await iterator.next() ?? .cancelled
        } onCancel: {
            sink.yield(.cancelled)
        }
        observe(.stopping(reason))
        for (service, task) in zip(services, tasks).reversed() {
            task.cancel()
            await task.value
            observe(.stopped(service: service.name))
        }
        sink.finish()
        if let failure = firstFailure.first { throw failure }
        return reason
    }
}

import Dispatch
import Foundation
import Synchronization

/// SIGINT and SIGTERM (or the signals given), caught rather than left to end the process: the
/// first one that arrives is handed to the one handler, once.
public final class TerminationSignals: Sendable {
    let signals: [(number: Int32, name: String)]
    private let state = Mutex<(fired: Bool, sources: [any DispatchSourceSignal])>((false, []))

    public init(_ signals: [(number: Int32, name: String)] = [(SIGINT, "SIGINT"), (SIGTERM, "SIGTERM")]) {
        self.signals = signals
    }

    /// Calls `handler` with the name of the first signal that arrives (and never again).
    func onSignal(_ handler: @escaping @Sendable (String) -> Void) {
        for (number, name) in signals {
            Foundation.signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { [self] in
                let first = self.state.withLock { state -> Bool in
                    defer { state.fired = true }
                    return !state.fired
                }
                if first { handler(name) }
            }
            source.resume()
            // A dispatch source stops when released: kept for the group's lifetime.
            state.withLock { $0.sources.append(source) }
        }
    }
}

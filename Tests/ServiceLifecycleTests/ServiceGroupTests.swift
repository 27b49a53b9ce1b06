import ServiceLifecycle
import Synchronization
import Testing

/// The group's promises: every service runs; on shutdown each is cancelled and awaited in the
/// reverse of the order given; a failing service shuts the others down and is what `run` throws.
struct ServiceGroupTests {
    final class Journal: Sendable {
        private let entries = Mutex<[String]>([])
        func add(_ entry: String) { entries.withLock { $0.append(entry) } }
        var all: [String] { entries.withLock { $0 } }

        /// Waits (bounded) until `condition` holds of the entries.
        func wait(until condition: ([String]) -> Bool) async throws {
            let deadline = ContinuousClock.now + .seconds(10)
            while !condition(all) {
                guard ContinuousClock.now < deadline else { throw CancellationError() }
                try await Task.sleep(for: .milliseconds(2))
            }
        }
    }

    /// Runs until cancelled, then takes a moment to stop (as a server answering what is in
    /// flight does), and notes when it started and stopped.
    struct Worker: Service {
        let name: String
        let journal: Journal
        func run() async throws {
            journal.add("start \(name)")
            while !Task.isCancelled { try? await Task.sleep(for: .seconds(60)) }
            await Task.yield()
            journal.add("stop \(name)")
        }
    }

    struct Failing: Service {
        struct Boom: Error {}
        let name = "failing"
        let journal: Journal
        func run() async throws {
            try await journal.wait { $0.filter { $0.hasPrefix("start") }.count == 2 }
            throw Boom()
        }
    }

    @Test func servicesStopInTheReverseOfTheirOrderWhenTheGroupIsCancelled() async throws {
        let journal = Journal()
        let group = ServiceGroup(services: ["projectors", "helpers", "server"].map { Worker(name: $0, journal: journal) }, signals: nil)
        let running = Task { try await group.run() }
        try await journal.wait { $0.count == 3 }
        running.cancel()
        #expect(try await running.value == .cancelled)
        #expect(Array(journal.all.dropFirst(3)) == ["stop server", "stop helpers", "stop projectors"])
    }

    @Test func aFailingServiceShutsTheOthersDownAndIsWhatTheGroupThrows() async throws {
        let journal = Journal()
        let group = ServiceGroup(services: [Worker(name: "projectors", journal: journal), Failing(journal: journal),
                                            Worker(name: "server", journal: journal)], signals: nil)
        await #expect(throws: ServiceGroup.Failure.self) { try await group.run() }
        #expect(journal.all.suffix(2) == ["stop server", "stop projectors"])
    }
}

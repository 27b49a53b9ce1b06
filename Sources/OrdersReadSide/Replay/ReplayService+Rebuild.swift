import Foundation
import RedisClient
import OrdersDomain
import OrdersEventLog

/// A full rebuild: fold every order from its own stream and write it at once, catch up, switch,
/// clean.
extension ReplayService {
    func runRebuild(_ targets: [any RebuildTarget], _ status: inout ReplayStatus) async throws {
        var phaseStarted = ContinuousClock.now
        func phaseDone(_ phase: String) {
            Log.info("replay.phase", ["id": status.id, "phase": phase, "ms": (ContinuousClock.now - phaseStarted).milliseconds])
            phaseStarted = .now
        }
        // 1. The new generations' consumer groups, at the log's head: their checkpoint, where
        // their catch-up below starts. The first group is created at the head in one command, so
        // the log's retention keeps every entry after it; the others start where it did.
        // Then every order, one SCAN batch at a time: read its whole stream, decode each event
        // once, fold it for every projection and write its final state, up to `head`.
        // The next batch is read while this one is folded; memory holds a batch, not the store.
        let head = try await targets.first?.createGroupAtHead()
        for target in targets.dropFirst() { try await target.createGroup(at: head) }
        status.total = try await log.appendedEvents()
        var seen = Set<String>() // SCAN may name an order twice; it must be added once
        func nextBatch(_ cursor: String) async throws -> (next: String, histories: [String: [RecordedEvent]]) {
            let (next, ids) = try await log.orderStreams(from: cursor)
            return (next, try await log.histories(of: ids))
        }
        var batch = try await nextBatch("0")
        while true {
            let cursor = batch.next
            let reading: Task<(next: String, histories: [String: [RecordedEvent]]), any Error>? =
                cursor == "0" ? nil : Task { try await nextBatch(cursor) }
            for (orderId, whole) in batch.histories where seen.insert(orderId).inserted {
                let history = whole.prefix { event in head.map { event.position <= $0 } ?? false }
                let decoded = history.map(DecodedEvent.init)
                for target in targets { try await target.add(orderId, decoded) }
                status.done += history.count
            }
            try await slot.checkpoint(&status)
            guard let reading else { break }
            batch = try await reading.value
        }
        phaseDone("reading")
        // 2. Write what is still buffered (the summed counters), side by side.
        status.phase = .writing
        try await slot.checkpoint(&status)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for target in targets { group.addTask { try await target.finish() } }
            try await group.waitForAll()
        }
        phaseDone("writing")
        // 3. Catch up through each new generation's consumer group, from the head on.
        status.phase = .catchingUp
        try await slot.checkpoint(&status)
        while true {
            let last = try await log.lastPosition()
            var behind = false
            for target in targets where try await !target.caughtUp(to: last) {
                behind = true
                try await target.step()
            }
            try await slot.checkpoint(&status)
            if !behind { break }
        }
        for target in targets { await target.release() }
        phaseDone("catching-up")
        // 4. Switch every rebuilt projection at once. From here the replay cannot be undone, so
        // it no longer heeds a cancel; what it replaced is recorded (`replaced`) and dropped.
        status.phase = .switching
        try await slot.checkpoint(&status)
        try await generations.switchTo(targets.map { ($0.name, $0.generation, $0.schema) })
        Log.info("replay.switched", ["id": status.id, "to": targets.map { "\($0.name):g\($0.generation)" }.joined(separator: ",")])
        status.phase = .cleaning
        try await slot.checkpoint(&status, cancellable: false)
        do {
            try await dropLeftovers(of: status)
        } catch {
            // The new generations are live; the old ones stay until the next replay or start.
            status.error = "the new generations are live, but dropping the old ones failed (see the server's log); the next replay or start finishes it"
            _ = try? await log.redis.send("HSET", statusKey, "error", status.error ?? "")
            Log.warning("replay.cleaning_failed", ["id": status.id, "error": error])
        }
        phaseDone("cleaning")
    }
}

import Foundation
import RedisClient
import OrdersDomain
import OrdersEventLog

/// A full rebuild: fold the log in memory, write new generations, catch up, switch, clean.
extension ReplayService {
    func runRebuild(_ targets: [any RebuildTarget], _ status: inout ReplayStatus) async throws {
        var phaseStarted = ContinuousClock.now
        func phaseDone(_ phase: String) {
            Log.info("replay.phase", ["id": status.id, "phase": phase, "ms": (ContinuousClock.now - phaseStarted).milliseconds])
            phaseStarted = .now
        }
        // 1. Fold the log up to its head, in memory.
        let head = try await log.lastPosition()
        status.total = try await log.redis.send("XLEN", log.keys.log).int ?? 0
        var cursor: LogPosition?
        // The next page is read while this one is folded; events are decoded once for all
        // projections, which fold side by side.
        var page = head == nil ? [] : try await log.readLog(after: nil, limit: Self.pageSize)
        while let head, let last = page.last {
            let current = page.filter { $0.position <= head }
            cursor = last.position
            let reading: Task<[RecordedEvent], any Error> = Task { [log, cursor] in
                last.position >= head ? [] : try await log.readLog(after: cursor, limit: Self.pageSize)
            }
            let decoded = current.map { DecodedEvent(recorded: $0, event: try? OrderEventCoding.decode(type: $0.type, data: $0.data)) }
            await withTaskGroup(of: Void.self) { group in
                for target in targets { group.addTask { target.fold(decoded) } }
            }
            status.done += current.count
            try await slot.checkpoint(&status)
            page = try await reading.value
        }
        phaseDone("reading")
        // 2. Write the new generations, side by side.
        status.phase = .writing
        try await slot.checkpoint(&status)
        let writing = status
        try await withThrowingTaskGroup(of: Void.self) { group in
            for target in targets {
                group.addTask {
                    var progress = writing
                    try await target.write(redis: self.log.redis) { try await self.slot.checkpoint(&progress) }
                }
            }
            try await group.waitForAll()
        }
        phaseDone("writing")
        // 3. Catch up through each new generation's consumer group, from the head on.
        status.phase = .catchingUp
        try await slot.checkpoint(&status)
        for target in targets { try await target.createGroup(at: head) }
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
        } catch let error where !(error is SimulatedCrash) {
            // The new generations are live; the old ones stay until the next replay or start.
            status.error = "the new generations are live, but dropping the old ones failed (see the server's log); the next replay or start finishes it"
            _ = try? await log.redis.send("HSET", statusKey, "error", status.error ?? "")
            Log.warning("replay.cleaning_failed", ["id": status.id, "error": error])
        }
        phaseDone("cleaning")
    }
}

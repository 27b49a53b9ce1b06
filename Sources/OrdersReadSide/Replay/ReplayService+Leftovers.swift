import Foundation
import RedisClient
import OrdersDomain
import OrdersEventLog

/// What an interrupted or finished rebuild leaves behind, and dropping it.
extension ReplayService {
    // MARK: - What an interrupted replay leaves

    /// For each projection a rebuild touched, the generation that is not live: its partial new
    /// one before the switch, the one it replaced after it.
    func leftovers(of status: ReplayStatus) async throws -> [ViewKeys] {
        guard status.kind == "rebuild" else { return [] }
        let live = try await generations.live(status.projections)
        var drop: [ViewKeys] = []
        for (index, name) in status.projections.enumerated() {
            guard let new = status.generations[safe: index] else { continue }
            if live[name] == new {
                if let old = status.replaced[safe: index], old != new { drop.append(ViewKeys(keys: log.keys, projection: name, generation: old)) }
            } else {
                drop.append(ViewKeys(keys: log.keys, projection: name, generation: new))
            }
        }
        return drop
    }

    /// Drops what a rebuild leaves besides the live generations: after the switch the ones it
    /// replaced, before it (cancelled, failed, or its process died) the ones it was filling.
    func dropLeftovers(of status: ReplayStatus) async throws {
        for view in try await leftovers(of: status) {
            Log.info("replay.dropping", ["id": status.id, "projection": view.projection, "generation": view.generation])
            try await dropGeneration(view)
        }
    }

    /// Claims the slot for `status` (or throws `replayRunning`); when it held an abandoned
    /// replay, finishes that one's work first. If that fails, its record goes back in the slot,
    /// so what it left is not forgotten: the next attempt drops it.
    func claimSlot(_ status: ReplayStatus) async throws {
        guard let previous = try await slot.claim(status), !previous.phase.isFinished else { return }
        Log.warning("replay.abandoned", ["id": previous.id, "phase": previous.phase.rawValue])
        do {
            try await dropLeftovers(of: previous)
        } catch {
            _ = try? await log.redis.pipeline([RedisCommand("DEL", statusKey), RedisCommand("HSET", [statusKey] + previous.fields)])
            throw error
        }
    }

    /// At start-up: waits (while `run` is not cancelled) until the recorded replay has finished
    /// or is abandoned, and finishes an abandoned one's work. A replay that is alive belongs to
    /// another instance, which finishes it itself.
    public func recoverAbandoned() async {
        while !Task.isCancelled {
            do {
                guard let status = try await slot.status(), !status.phase.isFinished else { return }
                if !status.isAlive {
                    var recovery = ReplayStatus.starting(kind: "recovery", projections: status.projections, phase: .cleaning)
                    try await claimSlot(recovery)
                    try await slot.finish(&recovery, .done)
                    return
                }
                let wait = max(0, ReplayStatus.staleAfter - (Timestamp.now().milliseconds - status.heartbeat.milliseconds)) + 100
                try await Task.sleep(for: .milliseconds(wait))
            } catch let error as ReadSideError where error.code == .replayRunning {
                return // another instance took the slot first, and recovers it
            } catch {
                if Task.isCancelled { return }
                Log.warning("replay.recovery_retrying", ["error": error])
                try? await Task.sleep(for: .seconds(1))
            }
        }
    }

    /// Deletes a generation: first its consumer group (its projectors stop), then, after
    /// `dropGrace`, its keys in batches (SCAN + UNLINK, never one blocking call).
    func dropGeneration(_ view: ViewKeys) async throws {
        let destroyed = try? await log.redis.send("XGROUP", "DESTROY", log.keys.log,
                                                    ProjectionMonitor.group(view.projection, generation: view.generation))
        if destroyed?.int == 1 { try await Task.sleep(for: dropGrace) }
        var cursor = "0"
        while true {
            let reply: RedisValue
            do {
                reply = try await log.redis.send("SCAN", cursor, "MATCH", view.prefix + "*", "COUNT", 1000)
            } catch RedisError.scanInterrupted {
                cursor = "0" // the slot moved to another master: scan there from the start
                continue
            }
            cursor = reply.array?.first?.string ?? "0"
            let keys = (reply.array?.dropFirst().first?.array ?? []).compactMap(\.string)
            if !keys.isEmpty { try await log.redis.send(RedisCommand("UNLINK", keys)) }
            if cursor == "0" { return }
        }
    }
}

import Foundation
import RedisClient
import OrdersDomain
import OrdersEventLog

/// The log's one replay slot: the status hash `orders:{0}:view:replay`, claimed atomically
/// (`orders_replay_claim`), kept fresh by a heartbeat while the replay runs, and watched for a
/// cancel request. Any instance, and `orders replay --status`, reads it.
struct ReplaySlot: Sendable {
    let redis: RedisClient
    let key: String
    /// Where this package's crash tests stop a replay as if its process died.
    let crashPoints: CrashPoints

    func status() async throws -> ReplayStatus? {
        ReplayStatus(try await redis.send("HGETALL", key))
    }

    /// Writes `status` into the slot unless a live replay holds it (then throws
    /// `replayRunning`). Returns the status it replaced, which may be an abandoned
    /// replay's (its heartbeat stopped) with work left undone.
    func claim(_ status: ReplayStatus) async throws -> ReplayStatus? {
        let cutoff = Timestamp(milliseconds: Timestamp.now().milliseconds - ReplayStatus.staleAfter)
        let reply = try await FunctionLibrary.call(RedisCommand("FCALL", ["orders_replay_claim", "1", key, String(FunctionLibrary.version),
                                                                           cutoff.description] + status.fields), on: redis)
        guard let parts = reply.array, let kind = parts.first?.string else {
            throw EventStoreError.corrupt("orders_replay_claim returned \(reply)")
        }
        if kind == "running" {
            throw ReadSideError.replayRunning(id: parts[safe: 1]?.string ?? "", phase: parts[safe: 2]?.string ?? "")
        }
        return ReplayStatus(.array(Array(parts.dropFirst())))
    }

    /// Records progress and the heartbeat; throws `cancelled` when a cancel was requested and
    /// `cancellable` (a replay past its switch finishes: it cannot be undone).
    func checkpoint(_ status: inout ReplayStatus, cancellable: Bool = true) async throws {
        await crashPoints.pass(.replayPhase(status.phase))
        status.heartbeat = .now()
        let replies = try await redis.pipeline([
            RedisCommand("HSET", key, "phase", status.phase.rawValue, "done", status.done, "total", status.total,
                         "heartbeat", status.heartbeat.description),
            RedisCommand("HGET", key, "cancel"),
        ])
        try replies[0].orThrow()
        if cancellable, replies[1].string == "1" { throw ReadSideError.cancelled }
    }

    func finish(_ status: inout ReplayStatus, _ phase: ReplayStatus.Phase, error: String? = nil) async throws {
        status.phase = phase
        status.error = error
        try await redis.send("HSET", key, "phase", phase.rawValue, "error", error ?? "",
                             "done", status.done, "heartbeat", Timestamp.now().description)
    }

    /// Asks the running replay to stop.
    func requestCancel() async throws {
        try await redis.send("HSET", key, "cancel", "1")
    }
}

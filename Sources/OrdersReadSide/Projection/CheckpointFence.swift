import RedisClient
import OrdersEventLog

/// Writes to a projection generation from outside its projector (an in-place repair, a
/// redrive). The projector's batches take the model to hold each order's fold up to the
/// generation's checkpoint, so these writes are computed from the events up to the checkpoint
/// and committed in one MULTI/EXEC only if the checkpoint has not moved since it was read
/// (WATCH); a batch committed meanwhile makes them read and compute again.
struct CheckpointFence {
    let view: ViewKeys
    /// A connection of its own: the WATCH lives on it (`RedisClient.dedicated`).
    let redis: RedisClient

    /// Reads the checkpoint, runs `compute` with it and commits the commands it returns (nil:
    /// nothing to commit, and false is returned). Gives up after ten tries with `giveUp`.
    func commit(giveUp: @autoclosure () -> String,
                _ compute: (LogPosition?) async throws -> [RedisCommand]?) async throws -> Bool {
        for _ in 0..<10 {
            let replies = try await redis.pipeline([RedisCommand("WATCH", view.checkpoint), RedisCommand("GET", view.checkpoint)])
            let checkpoint = try replies[1].orThrow().string.flatMap { LogPosition($0) }
            guard let commands = try await compute(checkpoint) else {
                try await redis.send("UNWATCH")
                return false
            }
            let committed = try await redis.pipeline([RedisCommand("MULTI")] + commands + [RedisCommand("EXEC")])
            if try committed[committed.count - 1].orThrow().array != nil { return true }
        }
        throw EventStoreError.corrupt(giveUp())
    }
}

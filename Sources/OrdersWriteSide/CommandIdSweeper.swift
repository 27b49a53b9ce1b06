import OrdersEventLog
import RedisClient

/// Deletes the command-id results whose time has passed, one bucket at a time, so that every
/// bucket is swept once per `cycle`. Appends already treat an expired result as absent; this
/// only gives its memory back. Any number of instances may sweep: deleting an expired result
/// twice is harmless, and each instance starts at a random bucket.
public struct CommandIdSweeper: Sendable {
    public let store: EventStore
    public let cycle: Duration

    public init(store: EventStore, cycle: Duration = .seconds(600)) {
        self.store = store
        self.cycle = cycle
    }

    /// Sweeps until the task is cancelled; a failed sweep (Redis down) waits for the next bucket.
    public func run() async {
        var bucket = Int.random(in: 0..<KeySchema.commandBuckets)
        let pause = cycle / KeySchema.commandBuckets
        while !Task.isCancelled {
            _ = try? await sweep(bucket: bucket)
            bucket = (bucket + 1) % KeySchema.commandBuckets
            try? await Task.sleep(for: pause)
        }
    }

    /// Deletes one bucket's expired results in every partition; returns how many.
    @discardableResult
    public func sweep(bucket: Int) async throws -> Int {
        var swept = 0
        for keys in store.layout.partitions {
            let reply = try await FunctionLibrary.call(RedisCommand("FCALL", "orders_commands_sweep", 1, keys.commandBucket(number: bucket),
                                                                    FunctionLibrary.version), on: store.redis)
            swept += reply.int ?? 0
        }
        return swept
    }
}

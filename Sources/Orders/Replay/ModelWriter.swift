import RedisClient

/// Writes an in-memory read model into Redis in large pipelines: HSET with many fields and ZADD
/// with many members per command, a few thousand commands per round trip. Only for a generation
/// nobody else writes yet (a rebuild before its switch): there are no guards.
struct ModelWriter {
    let redis: RedisClient
    static let membersPerCommand = 1000
    static let commandsPerPipeline = 2000

    func write(_ model: InMemoryRedisModel, checkpoint: () async throws -> Void) async throws {
        var batch: [RedisCommand] = []
        func flush() async throws {
            guard !batch.isEmpty else { return }
            for reply in try await redis.pipeline(batch) { try reply.orThrow() }
            batch.removeAll(keepingCapacity: true)
            try await checkpoint()
        }
        for (key, fields) in model.hashes {
            for chunk in fields.chunked(Self.membersPerCommand) {
                batch.append(RedisCommand("HSET", [key] + chunk.flatMap { [$0.key, $0.value] }))
                if batch.count >= Self.commandsPerPipeline { try await flush() }
            }
        }
        for (key, members) in model.sortedSets {
            for chunk in members.chunked(Self.membersPerCommand) {
                batch.append(RedisCommand("ZADD", [key] + chunk.flatMap { [scoreText($0.value), $0.key] }))
                if batch.count >= Self.commandsPerPipeline { try await flush() }
            }
        }
        try await flush()
    }

    /// Integral scores (all of ours are) printed without a fraction, as Redis prints them.
    private func scoreText(_ score: Double) -> String {
        score == score.rounded() && abs(score) < 1e15 ? String(Int64(score)) : String(score)
    }
}

extension Dictionary {
    func chunked(_ size: Int) -> [[(key: Key, value: Value)]] {
        var chunks: [[(key: Key, value: Value)]] = []
        var current: [(key: Key, value: Value)] = []
        current.reserveCapacity(size)
        for element in self {
            current.append(element)
            if current.count == size {
                chunks.append(current)
                current = []
            }
        }
        if !current.isEmpty { chunks.append(current) }
        return chunks
    }
}

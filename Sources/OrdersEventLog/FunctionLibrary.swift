import RedisClient
import OrdersDomain

/// The Redis Function library (`Sources/OrdersEventLog/Resources/orders.lua`, linked from `Redis/`),
/// embedded in the binary and
/// loaded at start-up with `FUNCTION LOAD REPLACE`.
///
/// The library's version is read from the source itself (`local LIBRARY_VERSION = n`), so the
/// number lives in one place. A service never replaces a newer library with an older one: when
/// Redis already holds a later version (a newer instance is running), start-up fails instead.
public enum FunctionLibrary {
    /// The library's source, compiled into the binary (`.embedInCode` in Package.swift), so a
    /// copied binary can never load a library other than the one it was built with.
    public static let source = String(decoding: PackageResources.orders_lua, as: UTF8.self)

    public static let version: Int = {
        let marker = "local LIBRARY_VERSION = "
        guard let range = source.range(of: marker),
              let value = Int(source[range.upperBound...].prefix(while: \.isNumber)) else {
            fatalError("Redis/orders.lua does not declare `\(marker)<number>`")
        }
        return value
    }()

    /// Loads the library on every primary (each master of a cluster) unless one holds a newer
    /// one; returns the version now loaded.
    @discardableResult
    public static func ensureLoaded(on redis: RedisClient) async throws(EventStoreError) -> Int {
        do {
            if let newest = try await versions(on: redis).compactMap({ $0 }).max(), newest > version {
                throw EventStoreError.libraryMismatch(
                    "Redis holds orders library v\(newest), newer than this build's v\(version); refusing to replace it")
            }
            for reply in try await redis.sendToEveryPrimary(RedisCommand("FUNCTION", "LOAD", "REPLACE", source)) {
                try reply.orThrow()
            }
            return version
        } catch {
            throw EventStoreError.from(error)
        }
    }

    /// Sends one function call. When Redis no longer has the library (restarted empty, `FUNCTION
    /// FLUSH`, a replica promoted without it, a master added to a cluster), it loads the library again and retries once, as
    /// clients do on NOSCRIPT: the call did not run, so retrying is safe. If the library cannot
    /// be loaded, the call fails as `unavailable`.
    public static func call(_ command: RedisCommand, on redis: RedisClient) async throws -> RedisValue {
        try await call(pipeline: [command], on: redis)[0].orThrow()
    }

    /// Sends a pipeline that opens with a function call (and what must run right behind it on
    /// the same connection), reloading the library as `call` does when the call finds it missing.
    public static func call(pipeline commands: [RedisCommand], on redis: RedisClient) async throws -> [RedisValue] {
        let replies = try await redis.pipeline(commands)
        guard case .error(let message) = replies[0], isMissing(message) else { return replies }
        try await reload(on: redis)
        return try await redis.pipeline(commands)
    }

    /// Loads the library again after a call found it missing; logs it.
    public static func reload(on redis: RedisClient) async throws(EventStoreError) {
        Log.warning("redis.function_library_missing", ["action": "loading it again", "version": version])
        do {
            try await ensureLoaded(on: redis)
        } catch {
            Log.error("redis.function_library_reload_failed", ["error": error])
            throw .unavailable("the storage's function library is missing and could not be loaded again", outcomeUnknown: false)
        }
    }

    /// True for the error Redis answers to a call of a function it does not have.
    public static func isMissing(_ error: RedisError) -> Bool {
        if case .server(let message) = error { return isMissing(message) }
        return false
    }

    public static func isMissing(_ message: String) -> Bool { message.contains("Function not found") }

    /// The version of the library every primary holds (the lowest, on a cluster whose masters
    /// differ), or nil when one holds none.
    public static func loadedVersion(on redis: RedisClient) async throws -> Int? {
        let versions = try await versions(on: redis)
        return versions.contains(nil) ? nil : versions.compactMap { $0 }.min()
    }

    /// Each primary's library version (nil where it has none), in `primaries()`'s order.
    private static func versions(on redis: RedisClient) async throws -> [Int?] {
        try await redis.sendToEveryPrimary(RedisCommand("FCALL_RO", "orders_version", 0)).map { reply in
            if case .error(let message) = reply {
                if isMissing(message) { return nil }
                throw RedisError.server(message)
            }
            return reply.int
        }
    }
}

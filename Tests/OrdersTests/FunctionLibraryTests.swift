import Foundation
import OrdersDomain
import OrdersEventLog
import OrdersWriteSide
import OrdersReadSide
import RedisClient
import Testing
import TestSupport

/// Function libraries are global to a Redis server, so these tests run on servers of their own.
@Suite(.enabled(if: TestRedis.shouldRun))
struct FunctionLibraryTests {
    @Test func loadsTheLibraryAndReportsItsVersion() async throws {
        let server = try RedisServerProcess()
        try server.start()
        let redis = RedisClient(url: server.url)
        #expect(try await FunctionLibrary.loadedVersion(on: redis) == nil)
        #expect(try await FunctionLibrary.ensureLoaded(on: redis) == FunctionLibrary.version)
        #expect(try await FunctionLibrary.loadedVersion(on: redis) == FunctionLibrary.version)
        let list = try await redis.send("FUNCTION", "LIST", "LIBRARYNAME", "orders")
        #expect("\(list)".contains("orders_append"))
    }

    @Test func refusesToReplaceANewerLibrary() async throws {
        let server = try RedisServerProcess()
        try server.start()
        let redis = RedisClient(url: server.url)
        try await redis.send("FUNCTION", "LOAD", "REPLACE", librarySource(version: FunctionLibrary.version + 1))
        await #expect(throws: EventStoreError.self) { try await FunctionLibrary.ensureLoaded(on: redis) }
        #expect(try await FunctionLibrary.loadedVersion(on: redis) == FunctionLibrary.version + 1)
    }

    @Test func appendRefusesToRunOnAnOlderLibrary() async throws {
        let server = try RedisServerProcess()
        try server.start()
        let redis = RedisClient(url: server.url)
        try await redis.send("FUNCTION", "LOAD", "REPLACE", librarySource(version: FunctionLibrary.version - 1))
        let store = EventStore(redis: redis)
        let error = await failure { try await store.append(orderId: newOrderId(), expected: .any, events: [event()]) }
        guard case .libraryMismatch(let message) = error else {
            Issue.record("got \(String(describing: error))")
            return
        }
        #expect(message.contains("LIBRARY_OUTDATED"))
        #expect(try await redis.send("DBSIZE") == .integer(0), "nothing was written")
    }

    private func librarySource(version: Int) -> String {
        FunctionLibrary.source.replacingOccurrences(
            of: "local LIBRARY_VERSION = \(FunctionLibrary.version)", with: "local LIBRARY_VERSION = \(version)")
    }
}

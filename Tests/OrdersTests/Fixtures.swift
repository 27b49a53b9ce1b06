import Foundation
import OrdersDomain
import OrdersEventLog
import OrdersWriteSide
import OrdersReadSide
import RedisClient
import TestSupport

/// An event store on the test Redis under a namespace of its own, with the library loaded.
func makeStore(_ label: String = "store", redis url: RedisURL? = nil,
               commandRetention: Duration = .seconds(86_400)) async throws -> EventStore {
    let redis = RedisClient(RedisConfiguration(url: try url ?? TestRedis.url(), connections: 4,
                                               commandTimeout: TestRedis.commandTimeout))
    try await FunctionLibrary.ensureLoaded(on: redis)
    return EventStore(redis: redis, keys: KeySchema(namespace: TestRedis.uniqueNamespace(label)),
                      commandRetention: commandRetention)
}

/// An event store of `partitions` partitions on the test Redis, under a namespace of its own.
func makePartitionedStore(_ label: String = "parts", partitions: Int) async throws -> EventStore {
    let redis = RedisClient(RedisConfiguration(url: try TestRedis.url(), connections: 4,
                                               commandTimeout: TestRedis.commandTimeout))
    try await FunctionLibrary.ensureLoaded(on: redis)
    return EventStore(redis: redis, layout: StoreLayout(namespace: TestRedis.uniqueNamespace(label), partitionCount: partitions))
}

func newOrderId() -> String { UUID().uuidString.lowercased() }

func event(_ type: String = "TestEvent", data: String = "{}", commandId: String? = nil) -> NewEvent {
    NewEvent(type: type, eventId: UUID().uuidString.lowercased(), occurredAt: .now(), data: data,
             metadata: EventMetadata(commandId: commandId))
}

let sampleItems = [
    OrderItem(sku: "MUG-1", name: "Blue mug", quantity: 2, unitPrice: Money(decimal: "9.99")!),
    OrderItem(sku: "TEA-7", name: "Green tea", quantity: 1, unitPrice: Money(decimal: "4.50")!),
]

let createSample = OrderCommand.create(customerName: "Ann Lee", customerEmail: "ann@example.com", items: sampleItems)

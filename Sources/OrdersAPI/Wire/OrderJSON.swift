import OrdersDomain
import OrdersEventLog
import OrdersWriteSide
import OrdersReadSide

/// How orders and events look on the line protocol: JSON objects, money as decimal strings, times
/// as ISO-8601 UTC strings.
enum OrderJSON {
    static func item(_ item: OrderItem) -> JSON {
        ["sku": .string(item.sku), "name": .string(item.name), "quantity": JSON(item.quantity),
         "unitPrice": .string(item.unitPrice.description), "lineTotal": .string(item.lineTotal.description)]
    }

    /// The state an aggregate folds to (the `orderAsOf` answer).
    static func aggregate(_ aggregate: OrderAggregate) -> JSON {
        guard let state = aggregate.state else { return ["orderId": .string(aggregate.orderId)] }
        return [
            "orderId": .string(aggregate.orderId), "version": JSON(aggregate.version),
            "customerName": .string(state.customerName), "customerEmail": .string(state.customerEmail),
            "items": .array(state.items.map(item)), "itemCount": JSON(state.items.reduce(0) { $0 + $1.quantity }),
            "total": .string(state.total.description), "status": .string(state.status.rawValue),
            "createdAt": .string(state.createdAt.description), "updatedAt": .string(state.updatedAt.description),
        ]
    }

    /// Orders of the read model, each written as its stored record (what `getOrder` hands out):
    /// `{"nextCursor"?:…,"orders":[…]}`.
    static func orders(_ views: [OrderView], nextCursor: String? = nil) -> [UInt8] {
        var json = JSONWriter()
        json.raw("{")
        if let nextCursor {
            json.key("nextCursor", first: true)
            json.string(nextCursor)
        }
        json.key("orders", first: nextCursor == nil)
        json.raw("[")
        var bytes = json.bytes
        for (index, view) in views.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            bytes += OrderProjection.encode(view)
        }
        bytes += "]}".utf8
        return bytes
    }

    /// A recorded event with its data as the JSON it was stored as.
    static func event(_ event: RecordedEvent, position: String) -> JSON {
        let metadata = event.metadata ?? EventMetadata(schemaVersion: 0)
        var meta: [String: JSON] = ["schemaVersion": JSON(metadata.schemaVersion)]
        if let value = metadata.commandId { meta["commandId"] = .string(value) }
        if let value = metadata.correlationId { meta["correlationId"] = .string(value) }
        if let value = metadata.causationId { meta["causationId"] = .string(value) }
        return ["type": .string(event.type), "version": JSON(event.version), "eventId": .string(event.eventId),
                "occurredAt": .string(event.occurredAt.description), "position": .string(position),
                "data": (try? JSON.parse(event.data)) ?? .string(event.data), "meta": .object(meta)]
    }

    /// A command's outcome: `{"duplicate":true?,"orderId":…,"position":…,"version":…}`,
    /// written directly: it answers every command.
    static func appendResult(_ result: AppendResult, position: String) -> RawJSON {
        var json = JSONWriter()
        json.raw("{")
        if result.duplicate { json.raw(#""duplicate":true,"#) }
        json.key("orderId", first: true)
        json.string(result.orderId)
        json.key("position")
        json.string(position)
        json.key("version")
        json.raw(String(result.version))
        json.raw("}")
        return RawJSON(json.bytes)
    }
}

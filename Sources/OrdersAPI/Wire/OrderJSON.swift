import OrdersDomain
import OrdersEventLog
import OrdersWriteSide
import OrdersReadSide

/// How orders and events look on the wire: plain JSON objects, money as decimal strings, times as
/// ISO-8601 UTC strings.
enum OrderJSON {
    static func item(_ item: OrderItem) -> [String: Any] {
        ["sku": item.sku, "name": item.name, "quantity": item.quantity,
         "unitPrice": item.unitPrice.description, "lineTotal": item.lineTotal.description]
    }

    /// The state an aggregate folds to (the `orderAsOf` answer).
    static func aggregate(_ aggregate: OrderAggregate) -> [String: Any] {
        guard let state = aggregate.state else { return ["orderId": aggregate.orderId] }
        return [
            "orderId": aggregate.orderId, "version": aggregate.version,
            "customerName": state.customerName, "customerEmail": state.customerEmail,
            "items": state.items.map(item), "itemCount": state.items.reduce(0) { $0 + $1.quantity },
            "total": state.total.description, "status": state.status.rawValue,
            "createdAt": state.createdAt.description, "updatedAt": state.updatedAt.description,
        ]
    }

    /// An order of the read model (each entry of a list): the bytes its record stores, which
    /// `getOrder` hands out as they are.
    static func view(_ view: OrderView) -> RawJSON {
        RawJSON(OrderProjection.encode(view))
    }

    static func summary(_ summary: QueryHandler.Summary) -> [String: Any] {
        var byStatus: [String: Any] = [:]
        for (status, count) in summary.ordersByStatus { byStatus[status.rawValue] = count }
        return ["totalOrders": summary.totalOrders, "ordersByStatus": byStatus, "revenue": summary.revenue.description,
                "averageOrderValue": summary.averageOrderValue.description,
                "days": summary.days.map { ["day": $0.day, "orders": $0.orders, "revenue": $0.revenue.description] }]
    }

    static func event(_ event: RecordedEvent, data: Any) -> [String: Any] {
        let metadata = event.metadata ?? EventMetadata(schemaVersion: 0)
        var meta: [String: Any] = ["schemaVersion": metadata.schemaVersion]
        if let value = metadata.commandId { meta["commandId"] = value }
        if let value = metadata.correlationId { meta["correlationId"] = value }
        if let value = metadata.causationId { meta["causationId"] = value }
        return ["type": event.type, "version": event.version, "eventId": event.eventId,
                "occurredAt": event.occurredAt.description, "position": event.position.description,
                "data": data, "meta": meta]
    }

    /// A command's outcome: `{"duplicate":true?,"orderId":…,"position":…,"version":…}`,
    /// written directly: it answers every command.
    static func appendResult(_ result: AppendResult) -> RawJSON {
        var json = JSONWriter()
        json.raw("{")
        if result.duplicate { json.raw(#""duplicate":true,"#) }
        json.key("orderId", first: true)
        json.string(result.orderId)
        json.key("position")
        json.string(result.lastPosition.description)
        json.key("version")
        json.raw(String(result.version))
        json.raw("}")
        return RawJSON(json.bytes)
    }
}

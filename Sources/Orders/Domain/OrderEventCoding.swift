import Foundation

/// Turns domain events into stored `(type, data)` pairs and back. `data` is JSON with sorted keys,
/// so the same event always stores the same bytes.
public enum OrderEventCoding {
    /// The schema version of every event type's `data` as this build writes it.
    public static let schemaVersion = 1

    public struct UnknownEvent: Error, CustomStringConvertible {
        public let type: String
        public let reason: String
        public var description: String { "cannot read event \(type): \(reason)" }
    }

    public static func encode(_ event: OrderEvent) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data: Data?
        switch event {
        case .created(let payload): data = try? encoder.encode(payload)
        case .statusChanged(let payload): data = try? encoder.encode(payload)
        case .cancelled(let payload): data = try? encoder.encode(payload)
        case .deleted(let payload): data = try? encoder.encode(payload)
        }
        // Every payload is a plain struct of strings, numbers and arrays: encoding cannot fail.
        return String(decoding: data!, as: UTF8.self)
    }

    public static func decode(type: String, data: String) throws -> OrderEvent {
        let decoder = JSONDecoder()
        let bytes = Data(data.utf8)
        do {
            switch type {
            case OrderCreated.type: return .created(try decoder.decode(OrderCreated.self, from: bytes))
            case OrderStatusChanged.type: return .statusChanged(try decoder.decode(OrderStatusChanged.self, from: bytes))
            case OrderCancelled.type: return .cancelled(try decoder.decode(OrderCancelled.self, from: bytes))
            case OrderDeleted.type: return .deleted(try decoder.decode(OrderDeleted.self, from: bytes))
            default: throw UnknownEvent(type: type, reason: "unknown event type")
            }
        } catch let error as UnknownEvent {
            throw error
        } catch {
            throw UnknownEvent(type: type, reason: "malformed data: \(error)")
        }
    }
}

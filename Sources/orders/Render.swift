import Foundation

/// Human-readable output of the client subcommands.
enum Render {
    static func human(op: String, _ result: Any) -> String {
        guard let object = result as? [String: Any] else { return "\(result)" }
        switch op {
        case "createOrder", "updateStatus", "cancelOrder", "deleteOrder":
            let verb = ["createOrder": "created", "updateStatus": "updated", "cancelOrder": "cancelled",
                        "deleteOrder": "deleted"][op]!
            let again = object["duplicate"] as? Bool == true ? " (already done earlier: nothing written)" : ""
            return "\(verb) order \(object["orderId"] ?? "?") — version \(object["version"] ?? "?"), position \(object["position"] ?? "?")\(again)"
        case "orderHistory":
            let events = object["events"] as? [[String: Any]] ?? []
            let rows = events.map { event -> [String] in
                let data = (try? JSONSerialization.data(withJSONObject: event["data"] ?? [:], options: [.sortedKeys, .fragmentsAllowed]))
                    .map { String(decoding: $0, as: UTF8.self) } ?? ""
                return ["\(event["version"] ?? "")", "\(event["type"] ?? "")", "\(event["occurredAt"] ?? "")",
                        "\(event["position"] ?? "")", data.count > 60 ? String(data.prefix(57)) + "..." : data]
            }
            return table(["VERSION", "TYPE", "OCCURRED AT", "POSITION", "DATA"], rows)
        case "orderAsOf":
            return order(object)
        default:
            let data = (try? JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys]))
            return data.map { String(decoding: $0, as: UTF8.self) } ?? "\(object)"
        }
    }

    static func order(_ order: [String: Any]) -> String {
        var lines = [
            "order     \(order["orderId"] ?? "")  (version \(order["version"] ?? ""))",
            "customer  \(order["customerName"] ?? "") <\(order["customerEmail"] ?? "")>",
            "status    \(order["status"] ?? "")",
            "total     \(order["total"] ?? "")",
            "created   \(order["createdAt"] ?? "")   updated \(order["updatedAt"] ?? "")",
        ]
        let items = (order["items"] as? [[String: Any]] ?? []).map {
            ["\($0["sku"] ?? "")", "\($0["name"] ?? "")", "\($0["quantity"] ?? "")", "\($0["unitPrice"] ?? "")", "\($0["lineTotal"] ?? "")"]
        }
        lines.append(table(["SKU", "NAME", "QTY", "UNIT PRICE", "LINE TOTAL"], items))
        return lines.joined(separator: "\n")
    }

    static func table(_ header: [String], _ rows: [[String]]) -> String {
        let widths = header.indices.map { column in
            ([header] + rows).map { $0.indices.contains(column) ? $0[column].count : 0 }.max() ?? 0
        }
        return ([header] + rows).map { row in
            row.enumerated().map { $1.padding(toLength: widths[$0], withPad: " ", startingAt: 0) }
                .joined(separator: "  ").trimmingCharacters(in: .whitespaces)
        }.joined(separator: "\n")
    }
}

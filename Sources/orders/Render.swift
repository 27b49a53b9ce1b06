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
        case "orderAsOf", "getOrder":
            return order(object)
        case "listOrders", "search":
            let orders = object["orders"] as? [[String: Any]] ?? []
            let rows = orders.map { ["\($0["orderId"] ?? "")", "\($0["status"] ?? "")", "\($0["total"] ?? "")",
                                     "\($0["customerEmail"] ?? "")", "\($0["createdAt"] ?? "")"] }
            var text = table(["ORDER", "STATUS", "TOTAL", "CUSTOMER", "CREATED"], rows)
            if let next = object["nextCursor"] { text += "\nmore: --cursor \(next)" }
            return text
        case "summary":
            let byStatus = object["ordersByStatus"] as? [String: Any] ?? [:]
            var lines = ["orders    \(object["totalOrders"] ?? 0)",
                         "revenue   \(object["revenue"] ?? "0.00")   (orders not cancelled)",
                         "average   \(object["averageOrderValue"] ?? "0.00")",
                         "by status " + byStatus.keys.sorted().map { "\($0)=\(byStatus[$0]!)" }.joined(separator: " ")]
            let days = (object["days"] as? [[String: Any]] ?? []).map { ["\($0["day"] ?? "")", "\($0["orders"] ?? "")", "\($0["revenue"] ?? "")"] }
            lines.append(table(["DAY", "ORDERS", "REVENUE"], days))
            return lines.joined(separator: "\n")
        case "topCustomers":
            let rows = (object["customers"] as? [[String: Any]] ?? []).map {
                ["\($0["email"] ?? "")", "\($0["name"] ?? "")", "\($0["orders"] ?? "")", "\($0["revenue"] ?? "")"]
            }
            return table(["EMAIL", "NAME", "ORDERS", "REVENUE"], rows)
        case "deadLetters":
            let rows = (object["deadLetters"] as? [[String: Any]] ?? []).map { letter in
                ["id", "projection", "logId", "attempts", "error"].map { "\(letter[$0] ?? "")" }
            }
            return table(["ID", "PROJECTION", "LOG ID", "ATTEMPTS", "ERROR"], rows)
        case "projectionStatus":
            let rows = (object["projections"] as? [[String: Any]] ?? []).map { p in
                ["projection", "generation", "lastDelivered", "lagEvents", "lagMilliseconds", "pending", "consumers", "deadLettered"]
                    .map { "\(p[$0] ?? "")" }
            }
            return table(["PROJECTION", "GEN", "LAST DELIVERED", "LAG", "LAG MS", "PENDING", "CONSUMERS", "DEAD"], rows)
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

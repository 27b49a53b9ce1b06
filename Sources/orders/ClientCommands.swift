import Foundation
import OrdersAPI

/// The client subcommands: build a request from the command line, send it, print the answer as
/// a table (or the raw JSON with --json).
enum ClientCommands {
    static func run(_ subcommand: String, _ arguments: Arguments) throws {
        let (op, parameters) = try request(for: subcommand, arguments)
        let env = ProcessInfo.processInfo.environment
        let server = arguments.option("server") ?? env["ORDERS_SERVER"] ?? "127.0.0.1:7480"
        guard let colon = server.lastIndex(of: ":"), let port = Int(server[server.index(after: colon)...]) else {
            throw UsageError("--server must be host:port, got \(server)")
        }
        let client = try OrdersClient(host: String(server[..<colon]), port: port,
                                      token: arguments.option("token") ?? env["ORDERS_API_TOKEN"])
        let result = try client.call(op, parameters)
        if arguments.flag("json") {
            let data = try JSONSerialization.data(withJSONObject: result, options: [.prettyPrinted, .sortedKeys, .fragmentsAllowed])
            print(String(decoding: data, as: UTF8.self))
        } else {
            print(Render.human(op: op, result))
        }
    }

    static func request(for subcommand: String, _ arguments: Arguments) throws -> (String, [String: Any]) {
        var parameters: [String: Any] = [:]
        if let version = arguments.option("expected-version") {
            guard let number = Int(version) else { throw UsageError("--expected-version must be a number") }
            parameters["expectedVersion"] = number
        }
        if let commandId = arguments.option("command-id") { parameters["commandId"] = commandId }
        switch subcommand {
        case "create":
            guard let customer = arguments.option("customer"), let email = arguments.option("email") else {
                throw UsageError("create needs --customer and --email")
            }
            let items = try arguments.all("item").map(parseItem)
            guard !items.isEmpty else { throw UsageError("create needs at least one --item SKU:NAME:QTY:PRICE") }
            parameters["customerName"] = customer
            parameters["customerEmail"] = email
            parameters["items"] = items
            return ("createOrder", parameters)
        case "set-status":
            parameters["orderId"] = try arguments.positional(0, "ORDER_ID")
            parameters["status"] = try arguments.positional(1, "STATUS")
            return ("updateStatus", parameters)
        case "cancel":
            parameters["orderId"] = try arguments.positional(0, "ORDER_ID")
            if let reason = arguments.option("reason") { parameters["reason"] = reason }
            return ("cancelOrder", parameters)
        case "delete":
            parameters["orderId"] = try arguments.positional(0, "ORDER_ID")
            return ("deleteOrder", parameters)
        case "history":
            return ("orderHistory", ["orderId": try arguments.positional(0, "ORDER_ID")])
        case "as-of":
            return ("orderAsOf", ["orderId": try arguments.positional(0, "ORDER_ID"), "at": try arguments.positional(1, "TIME")])
        case "health":
            return ("health", [:])
        default:
            throw UsageError("unknown command '\(subcommand)'")
        }
    }

    /// `SKU:NAME:QTY:PRICE`; the name may itself contain colons (the first and last two split).
    static func parseItem(_ text: String) throws -> [String: Any] {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard parts.count >= 4, let quantity = Int(parts[parts.count - 2]) else {
            throw UsageError("--item must be SKU:NAME:QTY:PRICE, got '\(text)'")
        }
        return ["sku": parts[0], "name": parts[1..<(parts.count - 2)].joined(separator: ":"),
                "quantity": quantity, "unitPrice": parts[parts.count - 1]]
    }
}

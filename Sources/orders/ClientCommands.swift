import Foundation
import OrdersAPI

/// The client subcommands: build a request from the command line, send it, print the answer as
/// a table (or the raw JSON with --json).
enum ClientCommands {
    static func run(_ subcommand: String, _ arguments: Arguments) throws {
        let (op, parameters) = try request(for: subcommand, arguments)
        // Every request names an operation of the server's catalogue, which the line protocol serves.
        guard OperationCatalogue.standard.entry(named: op)?.onLineProtocol == true else {
            throw UsageError("'\(op.prefix(40))' is no operation of the line protocol; `orders operations` lists them")
        }
        let client = try connect(arguments)
        let result = try client.call(op, parameters)
        if arguments.flag("json") {
            let data = try JSONSerialization.data(withJSONObject: result, options: [.prettyPrinted, .sortedKeys, .fragmentsAllowed])
            print(String(decoding: data, as: UTF8.self))
        } else {
            print(Render.human(op: op, result))
        }
    }

    /// `orders operations`: the catalogue, an operation a line (its name, HTTP method and path,
    /// and whether the line protocol serves it).
    static func listOperations() {
        let rows = OperationCatalogue.standard.entries.map { [$0.name, $0.route.method, $0.route.template, $0.onLineProtocol ? "yes" : "no"] }
        print(Render.table(["OPERATION", "HTTP", "PATH", "LINE PROTOCOL"], rows))
    }

    /// A client for `--server host:port` (or ORDERS_SERVER), with `--token` (or ORDERS_API_TOKEN).
    static func connect(_ arguments: Arguments) throws -> OrdersClient {
        let env = ProcessInfo.processInfo.environment
        let server = arguments.option("server") ?? env["ORDERS_SERVER"] ?? "127.0.0.1:7480"
        guard let colon = server.lastIndex(of: ":"), let port = Int(server[server.index(after: colon)...]) else {
            throw UsageError("--server must be host:port, got \(server)")
        }
        return try OrdersClient(host: String(server[..<colon]), port: port,
                                token: arguments.option("token") ?? env["ORDERS_API_TOKEN"])
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
            return ("orderAsOf", ["orderId": try arguments.positional(0, "ORDER_ID"), "at": wireTime(try arguments.positional(1, "TIME"))])
        case "get":
            parameters = ["orderId": try arguments.positional(0, "ORDER_ID")]
            return ("getOrder", withMinPosition(parameters, arguments))
        case "list":
            var query: [String: Any] = [:]
            for (option, field) in [("status", "status"), ("email", "customerEmail"), ("from", "createdFrom"),
                                    ("to", "createdTo"), ("min-total", "minTotal"), ("max-total", "maxTotal"), ("cursor", "cursor")] {
                if let value = arguments.option(option) { query[field] = option == "from" || option == "to" ? wireTime(value) : value }
            }
            if let limit = arguments.option("limit") { query["limit"] = try number(limit, "--limit") }
            return ("listOrders", withMinPosition(query, arguments))
        case "search":
            var query: [String: Any] = ["q": arguments.positional.joined(separator: " ")]
            if let limit = arguments.option("limit") { query["limit"] = try number(limit, "--limit") }
            return ("search", withMinPosition(query, arguments))
        case "summary":
            return ("summary", withMinPosition([:], arguments))
        case "top-customers":
            var query: [String: Any] = ["by": arguments.option("by") ?? "revenue"]
            if let limit = arguments.option("limit") { query["limit"] = try number(limit, "--limit") }
            return ("topCustomers", withMinPosition(query, arguments))
        case "status":
            return ("projectionStatus", [:])
        case "snapshot":
            return ("snapshot", ["orderId": try arguments.positional(0, "ORDER_ID")])
        case "dead-letters":
            return ("deadLetters", [:])
        case "redrive":
            return ("redriveDeadLetters", arguments.positional.first.map { ["deadLetterId": $0] } ?? [:])
        case "health":
            return ("health", [:])
        case "call":
            // Any operation by its catalogue name, its fields as one JSON object.
            let text = arguments.positional.count > 1 ? arguments.positional[1] : "{}"
            guard let fields = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else {
                throw UsageError("call takes the request's fields as one JSON object, like '{\"orderId\":\"…\"}'")
            }
            return (try arguments.positional(0, "OPERATION"), fields)
        default:
            throw UsageError("unknown command '\(subcommand)'")
        }
    }

    private static func withMinPosition(_ parameters: [String: Any], _ arguments: Arguments) -> [String: Any] {
        var parameters = parameters
        if let position = arguments.option("min-position") { parameters["minPosition"] = position }
        return parameters
    }

    private static func number(_ text: String, _ option: String) throws -> Int {
        guard let value = Int(text) else { throw UsageError("\(option) must be a number") }
        return value
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

import OrdersDomain
import OrdersEventLog
import OrdersWriteSide
import OrdersReadSide

/// The REST API of orders, under `/api/v1/orders` (the original design's paths and shapes).
extension HTTPRouter {
    // MARK: - Commands

    func createOrder(_ call: Call) async throws -> HTTPResponse {
        let body = try Self.body(call)
        try body.only(["customerName", "customerEmail", "items"], besides: [])
        let command = try RequestRouter.createCommand(body, fields: .rest)
        return try await run(command, orderId: nil, call, message: "Order created successfully")
    }

    func updateStatus(_ call: Call) async throws -> HTTPResponse {
        let body = try Self.body(call)
        try body.only(["status"], besides: [])
        let text = try body.string("status")
        guard let status = OrderStatus(rawValue: text) else {
            throw APIError(.validationFailed, "status must be one of \(OrderStatus.allCases.map(\.rawValue).joined(separator: ", ")), got '\(text.prefix(40))'")
        }
        return try await run(.updateStatus(status), orderId: call.parameters["orderId"], call, message: "Order status updated to \(status.rawValue)")
    }

    func cancelOrder(_ call: Call) async throws -> HTTPResponse {
        let body = try Self.body(call)
        try body.only(["reason"], besides: [])
        let reason = try body.optionalString("reason")
        return try await run(.cancel(reason: reason), orderId: call.parameters["orderId"], call, message: "Order cancelled")
    }

    func deleteOrder(_ call: Call) async throws -> HTTPResponse {
        try await run(.delete, orderId: call.parameters["orderId"], call, message: "Order deleted")
    }

    /// Runs a command: `If-Match` is its expected version, `Idempotency-Key` its command id. The
    /// answer carries the order's new version as its ETag and the command's log position (for
    /// read-your-writes) in `Orders-Log-Position`; a repeated key gets the first answer again,
    /// marked `Idempotent-Replayed: true`, and writes nothing.
    private func run(_ command: OrderCommand, orderId: String?, _ call: Call, message: String) async throws -> HTTPResponse {
        let request = call.request
        let result = try await api.execute(CommandHandler.Request(
            orderId: orderId, command: command, expectedVersion: try Self.expectedVersion(request),
            commandId: request.header("idempotency-key"), correlationId: request.header("x-correlation-id")))
        let body = JSONBytes.object([("message", .string(message)), ("orderId", .string(result.orderId)),
                                     ("version", .raw(String(result.version)))])
        var headers = [("ETag", "\"\(result.version)\""), ("Orders-Log-Position", result.lastPosition.description)]
        if orderId == nil { headers.append(("Location", "/api/v1/orders/order/\(result.orderId)")) }
        if result.duplicate { headers.append(("Idempotent-Replayed", "true")) }
        return HTTPResponse(status: orderId == nil ? 201 : 200, headers: headers, body: body)
    }

    /// `If-Match: "3"` (or `W/"3"`, or `3`): the order must be at version 3. `*` or none: any
    /// version. Exactly the document's pattern, `^(\*|(W/)?"[0-9]{1,18}"|[0-9]{1,18})$`.
    static func expectedVersion(_ request: HTTPRequest) throws(APIError) -> Int? {
        guard let value = request.header("if-match")?.trimmingSpaces, value != "*" else { return nil }
        var tag = value.utf8[...]
        let weak = tag.starts(with: "W/".utf8)
        if weak { tag = tag.dropFirst(2) }
        let quoted = tag.count >= 2 && tag.first == UInt8(ascii: "\"") && tag.last == UInt8(ascii: "\"")
        if quoted { tag = tag.dropFirst().dropLast() }
        guard weak == false || quoted, (1...18).contains(tag.count), tag.allSatisfy({ (48...57).contains($0) }),
              let version = Int(String(decoding: tag, as: UTF8.self)) else {
            throw APIError(.invalidRequest, "If-Match must be an order's ETag, like \"3\"")
        }
        return version
    }

    /// The request's JSON object (an empty body is an empty object). A body declared as JSON, or
    /// not declared, or declared as curl's default for `-d` (a form), is read as JSON; another
    /// declared type is refused (415).
    static func body(_ call: Call) throws(APIError) -> RequestFields {
        let body = call.request.body
        guard !body.isEmpty else { return RequestFields(object: [:]) }
        if let type = call.request.header("content-type")?.lowercased(), !type.contains("json"),
           !type.hasPrefix("application/x-www-form-urlencoded") {
            throw APIError(.unsupportedMediaType, "the body must be JSON (Content-Type: application/json)")
        }
        let parsed: JSON
        do { parsed = try JSON.parse(bytes: body) } catch {
            throw APIError(.invalidJSON, "the body is not valid JSON: \(error)")
        }
        guard case .object(let object) = parsed else { throw APIError(.invalidRequest, "the body must be a JSON object") }
        // The line protocol's envelope fields are no body's fields over HTTP.
        if let envelope = object.keys.sorted().first(where: RequestFields.envelope.contains) {
            throw APIError(.invalidRequest, "unknown field '\(envelope)' (see /openapi.json)")
        }
        return RequestFields(object: object)
    }

    // MARK: - Queries

    func getOrder(_ call: Call) async throws -> HTTPResponse {
        let doc = try await api.queries.orderDocument(call.parameters["orderId"] ?? "", minPosition: try Self.minPosition(call))
        if let (body, version) = RESTOrderJSON.one(record: doc) {
            return HTTPResponse(status: 200, headers: [("ETag", "\"\(version)\"")], body: body)
        }
        // A record in another form than this build writes: decoded and written the long way.
        let (body, version) = try RESTOrderJSON.one(try OrderProjection.decode(doc))
        return HTTPResponse(status: 200, headers: [("ETag", "\"\(version)\"")], body: body)
    }

    /// Newest first, filtered, a page by `limit` and `offset`, with the number of matches.
    func listOrders(_ call: Call) async throws -> HTTPResponse {
        let query = call.query
        var filter = QueryHandler.ListFilter()
        if let text = query["status"] { filter.status = try Self.status(text) }
        filter.customerEmail = query["customerEmail"]
        if let text = query["fromDate"] { filter.createdFrom = try Self.date(text, "fromDate", endOfDay: false) }
        if let text = query["toDate"] { filter.createdTo = try Self.date(text, "toDate", endOfDay: true) }
        if let text = query["minAmount"] { filter.minTotal = try Self.amount(text, "minAmount") }
        if let text = query["maxAmount"] { filter.maxTotal = try Self.amount(text, "maxAmount") }
        let limit = try Self.integer(query["limit"], "limit", default: 50, in: 1...1000)
        let offset = try Self.integer(query["offset"], "offset", default: 0, in: 0...9_000)
        let minPosition = try Self.minPosition(call)
        // Offsets walk the newest-first listing: bounded, so a page costs at most ~10,000 orders.
        var found: [OrderView] = []
        var cursor: String?
        repeat {
            let page = try await api.queries.list(filter, limit: min(1000, offset + limit + 1 - found.count), cursor: cursor,
                                                  minPosition: minPosition)
            found += page.orders
            cursor = page.nextCursor
        } while found.count <= offset + limit && cursor != nil
        let total = try await api.queries.count(filter)
        let data = Array(found.dropFirst(offset).prefix(limit))
        let pagination = "{\"hasMore\":\(found.count > offset + limit),\"limit\":\(limit),\"offset\":\(offset),\"total\":\(total.count),\"totalExact\":\(total.exact)}"
        return HTTPResponse(status: 200, body: try RESTOrderJSON.list(data, pagination: pagination))
    }

    func ordersByStatus(_ call: Call) async throws -> HTTPResponse {
        let status = try Self.status(call.parameters["status"] ?? "")
        return try await listed(QueryHandler.ListFilter(status: status), call)
    }

    func ordersByCustomer(_ call: Call) async throws -> HTTPResponse {
        try await listed(QueryHandler.ListFilter(customerEmail: call.parameters["email"] ?? ""), call)
    }

    private func listed(_ filter: QueryHandler.ListFilter, _ call: Call) async throws -> HTTPResponse {
        let limit = try Self.integer(call.query["limit"], "limit", default: 50, in: 1...1000)
        let page = try await api.queries.list(filter, limit: limit, minPosition: try Self.minPosition(call))
        return HTTPResponse(status: 200, body: try RESTOrderJSON.list(page.orders))
    }

    func search(_ call: Call) async throws -> HTTPResponse {
        guard let q = call.query["q"], !q.isEmpty else { throw APIError(.invalidRequest, "q is required") }
        let limit = try Self.integer(call.query["limit"], "limit", default: 50, in: 1...1000)
        return HTTPResponse(status: 200, body: try RESTOrderJSON.list(try await api.queries.search(q, limit: limit, minPosition: try Self.minPosition(call))))
    }

    func summary(_ call: Call) async throws -> HTTPResponse {
        let minPosition = try Self.minPosition(call)
        let summary = try await api.queries.summary(minPosition: minPosition)
        let top = try await api.queries.topCustomers(limit: 10, byRevenue: true, minPosition: minPosition)
        var byMonth: [String: Int] = [:]
        for day in summary.days { byMonth[String(day.day.prefix(7)), default: 0] += day.orders }
        let live = try await LiveGenerations(log: api.log).live(SummaryProjection.name)
        let applied = try await ProjectionMonitor(log: api.log).status(projection: SummaryProjection.name, generation: live).lastDelivered
        let data: [String: Any] = [
            "totalOrders": summary.totalOrders,
            "totalRevenue": summary.revenue.description,
            "ordersByStatus": Dictionary(uniqueKeysWithValues: summary.ordersByStatus.map { ($0.key.rawValue, $0.value) }),
            "revenueByStatus": Dictionary(uniqueKeysWithValues: summary.amountByStatus.map { ($0.key.rawValue, $0.value.description) }),
            "ordersByMonth": byMonth.filter { $0.value != 0 },
            "topCustomers": top.map(Self.customer),
            "lastUpdated": applied.map { Timestamp(milliseconds: Int64($0.milliseconds)).description } ?? RawJSON.null,
        ]
        return try Self.json(["data": data])
    }

    func topCustomers(_ call: Call) async throws -> HTTPResponse {
        let limit = try Self.integer(call.query["limit"], "limit", default: 10, in: 1...1000)
        let top = try await api.queries.topCustomers(limit: limit, byRevenue: true, minPosition: try Self.minPosition(call))
        return try Self.json(["data": top.map(Self.customer)])
    }

    static func customer(_ figures: QueryHandler.CustomerFigures) -> [String: Any] {
        ["customerEmail": figures.email, "customerName": figures.name, "orderCount": figures.orders,
         "totalSpent": figures.revenue.description]
    }

    // MARK: - Parameters

    /// Read-your-writes: `minPosition` in the query or `Orders-Min-Position` as a header.
    /// `?minPosition=` or the `Orders-Min-Position` header; each one given must be a position,
    /// and with both the later one counts.
    static func minPosition(_ call: Call) throws(APIError) -> LogPosition? {
        var latest: LogPosition?
        for (name, text) in [("minPosition", call.query["minPosition"]), ("Orders-Min-Position", call.request.header("orders-min-position"))] {
            guard let text else { continue }
            guard let position = LogPosition(requested: text) else {
                throw APIError(.invalidRequest, "\(name) must be a log position like 1795375537767-0, got '\(text.prefix(40))'")
            }
            latest = max(latest ?? position, position)
        }
        return latest
    }

    static func status(_ text: String) throws(APIError) -> OrderStatus {
        guard let status = OrderStatus(rawValue: text) else {
            throw APIError(.invalidRequest, "status must be one of \(OrderStatus.allCases.map(\.rawValue).joined(separator: ", ")), got '\(text.prefix(40))'")
        }
        return status
    }

    static func integer(_ text: String?, _ name: String, default value: Int, in range: ClosedRange<Int>) throws(APIError) -> Int {
        guard let text else { return value }
        guard let number = Int(text), range.contains(number) else {
            throw APIError(.invalidRequest, "\(name) must be a whole number from \(range.lowerBound) to \(range.upperBound)")
        }
        return number
    }

    static func amount(_ text: String, _ name: String) throws(APIError) -> Money {
        guard let money = Money(decimal: text) else { throw APIError(.invalidRequest, "\(name) must be an amount like 12.50") }
        return money
    }

    /// A UTC day (`2026-11-23`: its start, or its end with `endOfDay`) or an RFC 3339 time, as
    /// the document says (`format: date` or `date-time`); not the epoch milliseconds the line
    /// protocol also takes.
    static func date(_ text: String, _ name: String, endOfDay: Bool) throws(APIError) -> Timestamp {
        if text.utf8.count == 10, let start = Timestamp(parsing: text + "T00:00:00.000Z") {
            return endOfDay ? Timestamp(milliseconds: start.milliseconds + 86_400_000 - 1) : start
        }
        guard Array(text.utf8.prefix(5)).last == UInt8(ascii: "-"), let time = Timestamp(parsing: text) else {
            throw APIError(.invalidRequest, "\(name) must be a UTC date (2026-11-23) or time (2026-11-23T10:00:00Z)")
        }
        return time
    }

    /// A JSON answer from plain values (sorted keys, as the line protocol writes them).
    static func json(_ value: [String: Any], status: Int = 200) throws -> HTTPResponse {
        HTTPResponse(status: status, body: try JSONLineEncoder.encode(value))
    }
}

import Foundation
import OrdersDomain
import OrdersEventLog
import OrdersWriteSide
import OrdersReadSide
import RedisClient

/// Turns one request line into one response line. Every failure becomes an error response with
/// a documented code: nothing a client sends can throw past this type or end the connection,
/// except a line over the size limit, which the server itself answers.
public final class RequestRouter: Sendable {
    let commands: CommandHandler
    let queries: QueryHandler
    let replay: ReplayService
    /// The operator calls that read the event streams on purpose (history, as-of, snapshots).
    let log: EventLog
    let loader: OrderLoader
    let token: String?

    public init(commands: CommandHandler, queries: QueryHandler, replay: ReplayService, token: String? = nil) {
        self.commands = commands
        self.queries = queries
        self.replay = replay
        self.log = queries.log
        self.loader = OrderLoader(log: queries.log)
        self.token = token
    }

    public func respond(to line: [UInt8]) async -> [UInt8] {
        let parsed: (value: JSON, raw: ArraySlice<UInt8>?)
        do {
            parsed = try JSON.parse(bytes: line, rawValueOf: "id")
        } catch {
            return Self.encode(id: RawJSON.null, error: APIError(.invalidJSON, "the request is not valid JSON (one UTF-8 JSON object per line): \(error)"))
        }
        guard case .object(let object) = parsed.value else {
            return Self.encode(id: RawJSON.null, error: APIError(.invalidRequest, "a request must be a JSON object"))
        }
        // The id goes back exactly as the client wrote it, byte for byte.
        let id = parsed.raw.map { RawJSON(Array($0)) } ?? RawJSON.null
        do {
            let result = try await route(RequestFields(object: object))
            return Self.encode(id: id, result: result)
        } catch let error as APIError {
            return Self.encode(id: id, error: error)
        } catch let error as EventStoreError {
            return Self.encode(id: id, error: APIError(error))
        } catch let error as RedisError {
            // A query or operator call that reached Redis directly: an outage is `unavailable`.
            return Self.encode(id: id, error: APIError(EventStoreError.from(error)))
        } catch {
            return Self.encode(id: id, error: APIError.unexpected(error))
        }
    }

    private func route(_ request: RequestFields) async throws -> Any {
        if let token {
            guard case .string(let given)? = request.object["token"], Self.constantTimeEqual(given, token) else {
                throw APIError(.unauthorized, "a valid token is required")
            }
        }
        let op = try request.string("op")
        switch op {
        case "createOrder": return try await createOrder(request)
        case "updateStatus":
            let text = try request.string("status")
            guard let status = OrderStatus(rawValue: text) else {
                throw APIError(.validationFailed, "status must be one of \(OrderStatus.allCases.map(\.rawValue).joined(separator: ", ")), got '\(text.prefix(40))'")
            }
            return try await command(request, .updateStatus(status))
        case "cancelOrder": return try await command(request, .cancel(reason: try request.optionalString("reason")))
        case "deleteOrder": return try await command(request, .delete)
        case "getOrder", "listOrders", "ordersByStatus", "ordersByCustomer", "summary", "topCustomers", "search":
            do {
                return try await query(op, request)
            } catch let failure as QueryHandler.Failure {
                switch failure {
                case .notFound(let message): throw APIError(.notFound, message)
                case .staleRead(let message): throw APIError(.staleRead, message)
                case .invalid(let message): throw APIError(.invalidRequest, message)
                }
            }
        case "projectionStatus": return try await projectionStatus()
        case "replay": return try await startReplay(request)
        case "replayStatus": return try await replayStatus()
        case "cancelReplay":
            try await replay.cancel()
            return try await replayStatus()
        case "snapshot":
            let orderId = try request.string("orderId")
            guard Identifier.isValid(orderId) else { throw APIError(.notFound, "order \(orderId.prefix(80)) does not exist") }
            let version = try await loader.snapshotNow(orderId)
            guard version > 0 else { throw APIError(.notFound, "order \(orderId) does not exist") }
            return ["orderId": orderId, "version": version]
        case "deadLetters": return try await deadLetters(request)
        case "redriveDeadLetters": return try await redrive(request)
        case "orderHistory": return try await orderHistory(request)
        case "orderAsOf": return try await orderAsOf(request)
        case "health": return await health()
        default:
            throw APIError(.invalidRequest, "unknown op '\(op.prefix(40))'")
        }
    }

    // MARK: - Commands

    private func createOrder(_ request: RequestFields) async throws -> Any {
        let list = try request.array("items")
        // Checked before reading the items, so a request with 10,000 of them is refused cheaply.
        do { try OrderRules.checkItemCount(list.count) } catch { throw APIError(error) }
        var items: [OrderItem] = []
        items.reserveCapacity(list.count)
        for (index, element) in list.enumerated() {
            guard case .object(let object) = element else {
                throw APIError(.invalidRequest, "items[\(index)] must be an object")
            }
            let fields = RequestFields(object: object)
            guard let price = fields.value("unitPrice") else { throw APIError(.invalidRequest, "items[\(index)].unitPrice is required") }
            guard let quantity = fields.value("quantity") else { throw APIError(.invalidRequest, "items[\(index)].quantity is required") }
            items.append(OrderItem(sku: try fields.string("sku"), name: try fields.string("name"),
                                   quantity: try RequestFields.integer(quantity, "items[\(index)].quantity"),
                                   unitPrice: try RequestFields.money(price, "items[\(index)].unitPrice")))
        }
        let create = OrderCommand.create(customerName: try request.string("customerName"),
                                         customerEmail: try request.string("customerEmail"), items: items)
        return try await command(request, create, orderId: nil)
    }

    private func command(_ request: RequestFields, _ command: OrderCommand) async throws -> Any {
        try await self.command(request, command, orderId: try request.string("orderId"))
    }

    private func command(_ request: RequestFields, _ command: OrderCommand, orderId: String?) async throws -> Any {
        let handled = CommandHandler.Request(
            orderId: orderId, command: command, expectedVersion: try request.optionalInt("expectedVersion"),
            commandId: try request.optionalString("commandId"), correlationId: try request.optionalString("correlationId"))
        do {
            return OrderJSON.appendResult(try await commands.handle(handled))
        } catch {
            switch error {
            case .domain(let domain): throw APIError(domain)
            case .store(let store): throw APIError(store)
            }
        }
    }

    // MARK: - Queries (read models only)

    private func query(_ op: String, _ request: RequestFields) async throws -> Any {
        let minPosition = try request.optionalString("minPosition").map { text throws(APIError) -> LogPosition in
            guard let position = LogPosition(text) else {
                throw APIError(.invalidRequest, "minPosition must be a log position like 1795375537767-0, got '\(text.prefix(40))'")
            }
            return position
        }
        let limit = try request.optionalInt("limit")
        switch op {
        case "getOrder":
            return OrderJSON.view(try await queries.order(try request.string("orderId"), minPosition: minPosition))
        case "listOrders", "ordersByStatus", "ordersByCustomer":
            var filter = QueryHandler.ListFilter()
            if op != "ordersByCustomer", let text = try request.optionalString("status") {
                guard let status = OrderStatus(rawValue: text) else {
                    throw APIError(.invalidRequest, "status must be one of \(OrderStatus.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                filter.status = status
            } else if op == "ordersByStatus" {
                throw APIError(.invalidRequest, "status is required")
            }
            if op == "ordersByCustomer" { filter.customerEmail = try request.string("customerEmail") }
            if op == "listOrders" {
                filter.customerEmail = try request.optionalString("customerEmail")
                if request.has("createdFrom") { filter.createdFrom = try request.timestamp("createdFrom") }
                if request.has("createdTo") { filter.createdTo = try request.timestamp("createdTo") }
                filter.minTotal = try request.optionalMoney("minTotal")
                filter.maxTotal = try request.optionalMoney("maxTotal")
            }
            let page = try await queries.list(filter, limit: limit ?? 50, cursor: try request.optionalString("cursor"),
                                               minPosition: minPosition)
            var result: [String: Any] = ["orders": page.orders.map(OrderJSON.view)]
            if let next = page.nextCursor { result["nextCursor"] = next }
            return result
        case "search":
            return ["orders": try await queries.search(try request.string("q"), limit: limit ?? 50, minPosition: minPosition)
                .map(OrderJSON.view)]
        case "summary":
            return OrderJSON.summary(try await queries.summary(minPosition: minPosition))
        default: // topCustomers
            let by = try request.optionalString("by") ?? "revenue"
            guard by == "revenue" || by == "count" else { throw APIError(.invalidRequest, "by must be revenue or count") }
            let customers = try await queries.topCustomers(limit: limit ?? 10, byRevenue: by == "revenue", minPosition: minPosition)
            return ["by": by, "customers": customers.map { ["email": $0.email, "name": $0.name, "orders": $0.orders,
                                                            "revenue": $0.revenue.description] }]
        }
    }

    private func projectionStatus() async throws -> Any {
        let reports = try await ReadSideOperator(log: log, projections: replay.projections).reports()
        var result: [String: Any] = ["projections": reports.map { report -> [String: Any] in
            let status = report.status
            return ["projection": status.projection, "group": status.group, "generation": status.generation,
                    "lastDelivered": status.lastDelivered?.description ?? NSNull(), "lagEvents": status.lagEvents,
                    "lagMilliseconds": status.lagMilliseconds, "pending": status.pending,
                    "consumers": status.consumers, "deadLettered": status.deadLettered,
                    "schema": ["built": report.builtSchema, "current": report.currentSchema],
                    "needsRebuild": report.needsRebuild]
        }]
        if let status = try await replay.status() { result["replay"] = Self.json(status) }
        return result
    }

    // MARK: - Replay

    /// Starts a replay in the background and returns its status at once; anything that stops it
    /// from starting (an unknown order, another replay running) is the answer.
    private func startReplay(_ request: RequestFields) async throws -> Any {
        let what: ReplayService.Request
        if let orderId = try request.optionalString("orderId") {
            what = .order(orderId)
        } else if request.has("from") {
            what = .from(try request.timestamp("from"))
        } else {
            let projection = try request.optionalString("projection") ?? "all"
            what = .rebuild(projection == "all" ? replay.projections.names : [projection])
        }
        do {
            return Self.json(try await replay.start(what))
        } catch let running as ReplayService.AlreadyRunning {
            throw APIError(.replayRunning, "replay \(running.id) is already running (\(running.phase)); cancel it or wait for it",
                           details: ["replayId": running.id])
        } catch ReplayService.Refusal.notFound(let message) {
            throw APIError(.notFound, message)
        } catch ReplayService.Refusal.invalid(let message) {
            throw APIError(.invalidRequest, message)
        }
    }

    private func replayStatus() async throws -> Any {
        guard let status = try await replay.status() else { return [String: Any]() }
        return Self.json(status)
    }

    static func json(_ status: ReplayStatus) -> [String: Any] {
        let seconds = Double(max(1, status.heartbeat.milliseconds - status.startedAt.milliseconds)) / 1000
        var object: [String: Any] = ["id": status.id, "kind": status.kind, "projections": status.projections,
                                     "generations": status.generations, "phase": status.phase.rawValue,
                                     "done": status.done, "total": status.total, "startedAt": status.startedAt.description,
                                     "heartbeat": status.heartbeat.description, "alive": status.isAlive,
                                     "ratePerSecond": Double(status.done) / seconds]
        if let from = status.from { object["from"] = from }
        if let orderId = status.orderId { object["orderId"] = orderId }
        if let error = status.error { object["error"] = error }
        return object
    }

    // MARK: - Dead letters

    private func deadLetters(_ request: RequestFields) async throws -> Any {
        let letters = try await DeadLetters(log: log).list(limit: try request.optionalInt("limit") ?? 100)
        return ["deadLetters": letters.map { ["id": $0.id, "projection": $0.projection, "logId": $0.logId,
                                               "attempts": $0.attempts, "error": $0.error, "at": $0.at] }]
    }

    /// Applies dead-lettered entries again (all, or the one named by `id`); returns which stuck.
    private func redrive(_ request: RequestFields) async throws -> Any {
        do {
            let outcome = try await ReadSideOperator(log: log, projections: replay.projections)
                .redrive(only: try request.optionalString("id"))
            return ["redriven": outcome.redriven, "failed": outcome.failed]
        } catch let missing as ReadSideOperator.NoSuchLetter {
            throw APIError(.notFound, missing.description)
        }
    }

    // MARK: - Operator queries that read the event streams on purpose

    private func orderHistory(_ request: RequestFields) async throws -> Any {
        let orderId = try request.string("orderId")
        guard Identifier.isValid(orderId) else { throw APIError(.notFound, "order \(orderId.prefix(80)) does not exist") }
        let events: [RecordedEvent]
        do { events = try await log.events(of: orderId) } catch { throw APIError(error) }
        guard !events.isEmpty else { throw APIError(.notFound, "order \(orderId) does not exist") }
        return ["orderId": orderId, "events": events.map { event in
            OrderJSON.event(event, data: (try? JSONSerialization.jsonObject(with: Data(event.data.utf8))) ?? event.data)
        }]
    }

    private func orderAsOf(_ request: RequestFields) async throws -> Any {
        let orderId = try request.string("orderId")
        let time = try request.timestamp("at")
        guard Identifier.isValid(orderId) else { throw APIError(.notFound, "order \(orderId.prefix(80)) does not exist") }
        let aggregate: OrderAggregate
        do { aggregate = try await loader.load(orderId, asOf: time) } catch {
            throw APIError(EventStoreError.from(error))
        }
        guard let state = aggregate.state else { throw APIError(.notFound, "order \(orderId) did not exist at \(time)") }
        guard !state.deleted else { throw APIError(.notFound, "order \(orderId) was deleted at \(state.updatedAt)") }
        return OrderJSON.aggregate(aggregate)
    }

    private func health() async -> Any {
        let redis = log.redis
        do {
            let library = try await FunctionLibrary.loadedVersion(on: redis)
            let last = try await log.lastPosition()
            let mismatches = try await LiveGenerations(log: log).schemaMismatches()
            let ok = library == FunctionLibrary.version && mismatches.isEmpty
            var result: [String: Any] = ["status": ok ? "ok" : "degraded", "redis": "up",
                                         "functionLibrary": ["loaded": library ?? 0, "expected": FunctionLibrary.version],
                                         "logPosition": last?.description ?? NSNull()]
            if !mismatches.isEmpty {
                result["schemaMismatch"] = mismatches.map { ["projection": $0.projection, "built": $0.built, "current": $0.current] }
            }
            return result
        } catch {
            Log.warning("health.redis_unreachable", ["error": error])
            return ["status": "down", "redis": "unreachable"]
        }
    }

    // MARK: - Encoding

    static func encode(id: RawJSON, result: Any) -> [UInt8] {
        serialize(["id": id, "ok": true, "result": result])
    }

    static func encode(id: RawJSON, error: APIError) -> [UInt8] {
        var body: [String: Any] = ["code": error.code.rawValue, "message": error.message]
        for (key, value) in error.details { body[key] = value }
        return serialize(["id": id, "ok": false, "error": body])
    }

    private static func serialize(_ object: [String: Any]) -> [UInt8] {
        if let line = try? JSONLineEncoder.encode(object) { return line }
        // Only an id that cannot be written back (impossible for one that was parsed) lands here.
        return Array(#"{"id":null,"ok":false,"error":{"code":"internal","message":"unencodable response"}}"#.utf8)
    }

    private static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        guard x.count == y.count else { return false }
        return zip(x, y).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }
}

import OrdersDomain
import OrdersEventLog
import OrdersWriteSide

/// What the four commands share: one `CommandHandler` call, answered on the line protocol with
/// `{"duplicate"?,"orderId","position","version"}` and over HTTP with a message, the order's new
/// version as its ETag and the command's log position (for read-your-writes) in
/// `Orders-Log-Position`. A repeated command id (`Idempotency-Key`) gets the first answer again,
/// marked (`duplicate`, `Idempotent-Replayed: true`), and writes nothing.
protocol OrderCommandOperation: LineOperation where Input == CommandHandler.Request, Output == CommandOutcome {
    /// The HTTP answer's `message`.
    static func message(_ input: Input) -> String
}

extension OrderCommandOperation {
    static func perform(_ input: Input, _ api: APIContext) async throws -> CommandOutcome {
        try await api.execute(input)
    }

    static func result(line outcome: CommandOutcome) -> [UInt8] {
        OrderJSON.appendResult(outcome.result, position: outcome.position).bytes
    }

    static func response(http outcome: CommandOutcome, to input: Input) -> HTTPResponse {
        let output = outcome.result
        let body = JSONBytes.object([("message", .string(message(input))), ("orderId", .string(output.orderId)),
                                     ("version", .raw(String(output.version)))])
        let created = input.orderId == nil
        var headers = [("ETag", "\"\(output.version)\""), ("Orders-Log-Position", outcome.position)]
        if created { headers.append(("Location", "/api/v1/orders/order/\(output.orderId)")) }
        if output.duplicate { headers.append(("Idempotent-Replayed", "true")) }
        return HTTPResponse(status: created ? 201 : 200, headers: headers, body: body)
    }

    /// The command on the line protocol: the order (none for a create), `expectedVersion`,
    /// `commandId` and `correlationId` beside the command's own fields.
    static func request(_ command: OrderCommand, line request: RequestFields, orderId: String?) throws(APIError) -> Input {
        CommandHandler.Request(orderId: orderId, command: command, expectedVersion: try request.optionalInt("expectedVersion"),
                               commandId: try request.optionalString("commandId"),
                               correlationId: try request.optionalString("correlationId"))
    }

    /// The command over HTTP: `If-Match` is its expected version, `Idempotency-Key` its command
    /// id, `X-Correlation-Id` its correlation id.
    static func request(_ command: OrderCommand, http call: HTTPCall, orderId: String?) throws(APIError) -> Input {
        CommandHandler.Request(orderId: orderId, command: command, expectedVersion: try call.expectedVersion(),
                               commandId: call.header("idempotency-key"), correlationId: call.header("x-correlation-id"))
    }
}

import OrdersDomain
import OrdersEventLog
import OrdersReadSide
import RedisClient

/// Routes HTTP requests to the same handlers the line protocol uses (`RequestRouter`), and gives
/// their outcomes the statuses a REST client expects. Nothing a client sends can make it throw:
/// every failure is an answer with a status and a `{code, error}` body.
public final class HTTPRouter: Sendable {
    let api: RequestRouter
    /// The probes and metrics answer without a token even when one is configured.
    let publicMetrics: Bool
    /// `/health/ready` fails when a projection's lag is above this.
    let readyLag: Duration

    public init(api: RequestRouter, publicMetrics: Bool = false, readyLag: Duration = .seconds(30)) {
        self.api = api
        self.publicMetrics = publicMetrics
        self.readyLag = readyLag
    }

    /// One request of a route: its path parameters, query and body.
    struct Call {
        let request: HTTPRequest
        let parameters: [String: String]
        let query: [String: String]
    }

    typealias Handler = @Sendable (HTTPRouter, Call) async throws -> HTTPResponse

    /// What one method of a route does: its operation's name (the line protocol's, for metrics)
    /// and its handler.
    struct Endpoint {
        let operation: String
        let handler: Handler
        init(_ operation: String, _ handler: @escaping Handler) {
            self.operation = operation
            self.handler = handler
        }
    }

    struct Route {
        /// Literal segments, and ":name" for a parameter.
        let pattern: [String]
        let methods: [String: Endpoint]
        /// Probes and metrics: open without a token when the operator says so.
        var probe = false
        /// Open without a token always (the OpenAPI document: it holds no data).
        var open = false
    }

    static let routes: [Route] = [
        Route(pattern: ["health", "live"], methods: ["GET": Endpoint("live") { r, _ in r.live() }], probe: true),
        Route(pattern: ["health", "ready"], methods: ["GET": Endpoint("ready") { r, _ in await r.ready() }], probe: true),
        Route(pattern: ["metrics"], methods: ["GET": Endpoint("metrics") { r, _ in await r.metrics() }], probe: true),
        Route(pattern: ["openapi.json"], methods: ["GET": Endpoint("openapi") { _, _ in
            HTTPResponse(status: 200, body: OpenAPIDocument.bytes)
        }], open: true),
        Route(pattern: ["api", "v1", "orders"], methods: ["GET": Endpoint("listOrders") { r, c in try await r.listOrders(c) }]),
        Route(pattern: ["api", "v1", "orders", "order"], methods: ["POST": Endpoint("createOrder") { r, c in try await r.createOrder(c) }]),
        Route(pattern: ["api", "v1", "orders", "order", ":orderId"],
              methods: ["GET": Endpoint("getOrder") { r, c in try await r.getOrder(c) },
                        "DELETE": Endpoint("deleteOrder") { r, c in try await r.deleteOrder(c) }]),
        Route(pattern: ["api", "v1", "orders", "order", ":orderId", "status"],
              methods: ["PUT": Endpoint("updateStatus") { r, c in try await r.updateStatus(c) }]),
        Route(pattern: ["api", "v1", "orders", "order", ":orderId", "cancel"],
              methods: ["PUT": Endpoint("cancelOrder") { r, c in try await r.cancelOrder(c) }]),
        Route(pattern: ["api", "v1", "orders", "order", ":orderId", "history"],
              methods: ["GET": Endpoint("orderHistory") { r, c in try await r.history(c) }]),
        Route(pattern: ["api", "v1", "orders", "order", ":orderId", "as-of"],
              methods: ["GET": Endpoint("orderAsOf") { r, c in try await r.asOf(c) }]),
        Route(pattern: ["api", "v1", "orders", "order", ":orderId", "snapshot"],
              methods: ["POST": Endpoint("snapshot") { r, c in try await r.snapshot(c) }]),
        Route(pattern: ["api", "v1", "orders", "status", ":status"],
              methods: ["GET": Endpoint("ordersByStatus") { r, c in try await r.ordersByStatus(c) }]),
        Route(pattern: ["api", "v1", "orders", "customer", ":email"],
              methods: ["GET": Endpoint("ordersByCustomer") { r, c in try await r.ordersByCustomer(c) }]),
        Route(pattern: ["api", "v1", "orders", "search"], methods: ["GET": Endpoint("search") { r, c in try await r.search(c) }]),
        Route(pattern: ["api", "v1", "orders", "summary"], methods: ["GET": Endpoint("summary") { r, c in try await r.summary(c) }]),
        Route(pattern: ["api", "v1", "orders", "top-customers"],
              methods: ["GET": Endpoint("topCustomers") { r, c in try await r.topCustomers(c) }]),
        Route(pattern: ["api", "v1", "projections"], methods: ["GET": Endpoint("projectionStatus") { r, _ in try await r.projections() }]),
        Route(pattern: ["api", "v1", "health"], methods: ["GET": Endpoint("health") { r, _ in try await r.health() }]),
        Route(pattern: ["api", "v1", "dead-letters"], methods: ["GET": Endpoint("deadLetters") { r, c in try await r.deadLetters(c) }]),
        Route(pattern: ["api", "v1", "dead-letters", "redrive"],
              methods: ["POST": Endpoint("redriveDeadLetters") { r, c in try await r.redrive(c) }]),
        Route(pattern: ["api", "v1", "replay"], methods: ["GET": Endpoint("replayStatus") { r, c in try await r.replayStatus(c) },
                                                         "POST": Endpoint("replay") { r, c in try await r.startReplay(c) },
                                                         "DELETE": Endpoint("cancelReplay") { r, _ in try await r.cancelReplay() }]),
    ]

    /// Answers one request and counts it (`ServiceMetrics.request`): its operation, or `unrouted`
    /// for a path or method without one, and its outcome, `ok` or the error's code.
    public func respond(to request: HTTPRequest) async -> HTTPResponse {
        let start = ContinuousClock.now
        let (operation, response) = await route(request)
        let outcome = response.status < 400 ? "ok" : response.errorCode ?? "status_\(response.status)"
        api.metrics.request(protocol: "http", operation: operation, outcome: outcome, seconds: (ContinuousClock.now - start).seconds)
        return response
    }

    private func route(_ request: HTTPRequest) async -> (operation: String, HTTPResponse) {
        guard let segments = request.pathSegments else {
            return ("unrouted", HTTPResponse.error(400, code: .invalidRequest, message: "the path is not valid percent-encoded UTF-8"))
        }
        guard let query = request.queryParameters else {
            return ("unrouted", HTTPResponse.error(400, code: .invalidRequest, message: "the query is not valid percent-encoded UTF-8"))
        }
        guard let (route, parameters) = Self.match(segments) else {
            return ("unrouted", HTTPResponse.error(404, code: .notFound, message: "no such path: \(request.path.prefix(120))"))
        }
        let method = request.method == "HEAD" ? "GET" : request.method
        guard let endpoint = route.methods[method] else {
            var allowed = route.methods.keys.sorted()
            if allowed.contains("GET") { allowed.append("HEAD") }
            return ("unrouted", HTTPResponse.error(405, code: .methodNotAllowed,
                                                   message: "\(request.method.prefix(20)) is not allowed here; use \(allowed.joined(separator: ", "))",
                                                   headers: [("Allow", allowed.joined(separator: ", "))]))
        }
        if let token = api.token, !route.open, !(route.probe && publicMetrics) {
            guard let given = Self.bearerToken(request), RequestRouter.constantTimeEqual(given, token) else {
                return (endpoint.operation, HTTPResponse.error(401, code: .unauthorized, message: "a valid bearer token is required",
                                                               headers: [("WWW-Authenticate", "Bearer")]))
            }
        }
        if let unknown = query.keys.sorted().first(where: { !(OpenAPIDocument.queryParameters[endpoint.operation]?.contains($0) ?? false) }) {
            return (endpoint.operation, HTTPResponse.error(400, code: .invalidRequest,
                                                           message: "unknown query parameter '\(unknown.prefix(40))' (see /openapi.json)"))
        }
        do {
            return (endpoint.operation, try await endpoint.handler(self, Call(request: request, parameters: parameters, query: query)))
        } catch {
            return (endpoint.operation, Self.response(for: Self.apiError(error)))
        }
    }

    static func match(_ segments: [String]) -> (Route, [String: String])? {
        for route in routes where route.pattern.count == segments.count {
            var parameters: [String: String] = [:]
            var matched = true
            for (part, segment) in zip(route.pattern, segments) {
                if part.hasPrefix(":") {
                    parameters[String(part.dropFirst())] = segment
                } else if part != segment {
                    matched = false
                    break
                }
            }
            if matched { return (route, parameters) }
        }
        return nil
    }

    static func bearerToken(_ request: HTTPRequest) -> String? {
        guard let value = request.header("authorization") else { return nil }
        let parts = value.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        return String(parts[1]).trimmingSpaces
    }

    // MARK: - Errors

    static func apiError(_ error: any Error) -> APIError {
        switch error {
        case let error as APIError: error
        case let error as EventStoreError: APIError(error)
        case let error as ReadSideError: APIError(error)
        case let error as RedisError: APIError(EventStoreError.from(error))
        default: APIError.unexpected(error)
        }
    }

    /// The status each error code has over HTTP.
    static func status(of code: APIError.Code) -> Int {
        switch code {
        case .invalidJSON, .invalidRequest, .validationFailed: 400
        case .unauthorized: 401
        case .notFound: 404
        // A failed If-Match (concurrency_conflict) is a 409 with the current ETag rather than
        // HTTP's 412: the expected version is part of the request's data, and a generic client
        // (schemathesis's positive-data check) counts 412 as valid data refused.
        case .invalidTransition, .replayRunning, .unknownPosition, .concurrencyConflict, .commandIdReused: 409
        case .tooLarge: 413
        case .unsupportedMediaType: 415
        case .methodNotAllowed: 405
        case .timeout: 408
        case .notReady: 503
        case .staleRead, .unavailable: 503
        case .internal: 500
        }
    }

    static func response(for error: APIError) -> HTTPResponse {
        var extra: [(String, JSONBytes.Value)] = []
        for (key, value) in error.details.sorted(by: { $0.key < $1.key }) {
            switch value {
            case let number as Int: extra.append((key, .raw(String(number))))
            default: extra.append((key, .string("\(value)")))
            }
        }
        let body = JSONBytes.object([("code", .string(error.code.rawValue)), ("error", .string(error.message))] + extra)
        var headers: [(String, String)] = []
        if error.code == .concurrencyConflict, let actual = error.details["actualVersion"] as? Int {
            headers.append(("ETag", "\"\(actual)\""))
        }
        if error.code == .unavailable || error.code == .staleRead { headers.append(("Retry-After", "1")) }
        var response = HTTPResponse(status: status(of: error.code), headers: headers, body: body)
        response.errorCode = error.code.rawValue
        return response
    }
}

extension String {
    var trimmingSpaces: String {
        var text = self[...]
        while text.first == " " || text.first == "\t" { text = text.dropFirst() }
        while text.last == " " || text.last == "\t" { text = text.dropLast() }
        return String(text)
    }
}

import OrdersDomain
import OrdersEventLog
import OrdersReadSide
import RedisClient

/// Routes HTTP requests to the catalogue's operations by method and path, and gives their
/// outcomes the statuses a REST client expects. Nothing a client sends can make it throw: every
/// failure is an answer with a status and a `{code, error}` body.
public final class HTTPRouter: Sendable {
    let api: APIContext
    /// The probes and metrics answer without a token even when one is configured.
    let publicMetrics: Bool
    /// The catalogue's operations by path template: each path's methods.
    let routes: [Route]

    struct Route: Sendable {
        /// Literal segments, and "{name}" for a parameter.
        let pattern: [String]
        var methods: [String: OperationCatalogue.Entry]
    }

    public init(api: APIContext, catalogue: OperationCatalogue = .standard, publicMetrics: Bool = false) {
        self.api = api
        self.publicMetrics = publicMetrics
        var routes: [Route] = []
        for entry in catalogue.entries {
            let pattern = entry.route.segments
            if let index = routes.firstIndex(where: { $0.pattern == pattern }) {
                routes[index].methods[entry.route.method] = entry
            } else {
                routes.append(Route(pattern: pattern, methods: [entry.route.method: entry]))
            }
        }
        self.routes = routes
    }

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
        guard let (route, parameters) = match(segments) else {
            return ("unrouted", HTTPResponse.error(404, code: .notFound, message: "no such path: \(request.path.prefix(120))"))
        }
        let method = request.method == "HEAD" ? "GET" : request.method
        guard let entry = route.methods[method] else {
            var allowed = route.methods.keys.sorted()
            if allowed.contains("GET") { allowed.append("HEAD") }
            return ("unrouted", HTTPResponse.error(405, code: .methodNotAllowed,
                                                   message: "\(request.method.prefix(20)) is not allowed here; use \(allowed.joined(separator: ", "))",
                                                   headers: [("Allow", allowed.joined(separator: ", "))]))
        }
        if !entry.route.open, !(entry.route.probe && publicMetrics), !api.accepts(token: Self.bearerToken(request)) {
            return (entry.name, HTTPResponse.error(401, code: .unauthorized, message: "a valid bearer token is required",
                                                   headers: [("WWW-Authenticate", "Bearer")]))
        }
        if let unknown = query.keys.sorted().first(where: { !(OpenAPIDocument.queryParameters[entry.name]?.contains($0) ?? false) }) {
            return (entry.name, HTTPResponse.error(400, code: .invalidRequest,
                                                   message: "unknown query parameter '\(unknown.prefix(40))' (see /openapi.json)"))
        }
        do {
            return (entry.name, try await entry.http(HTTPCall(request: request, parameters: parameters, query: query), api))
        } catch {
            return (entry.name, HTTPResponse(error: APIError(any: error)))
        }
    }

    func match(_ segments: [String]) -> (Route, [String: String])? {
        for route in routes where route.pattern.count == segments.count {
            var parameters: [String: String] = [:]
            var matched = true
            for (part, segment) in zip(route.pattern, segments) {
                if part.hasPrefix("{") {
                    parameters[String(part.dropFirst().dropLast())] = segment
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
}

extension String {
    var trimmingSpaces: String {
        var text = self[...]
        while text.first == " " || text.first == "\t" { text = text.dropFirst() }
        while text.last == " " || text.last == "\t" { text = text.dropLast() }
        return String(text)
    }
}

import OrdersDomain

/// One operation of the API, in one place: its name, where HTTP serves it, the typed request it
/// reads from either protocol, the call it makes, and its answer written in either form. The
/// line router, the HTTP router, the metrics, the OpenAPI conformance test and the command line
/// all read the operations from `OperationCatalogue`; adding a query is its read-side function
/// plus one file that conforms to this.
public protocol APIOperation: Sendable {
    /// What the operation reads, checked: decoding it is where a bad request is refused.
    associatedtype Input: Sendable
    /// What the call returns, before either protocol writes it.
    associatedtype Output

    /// The line protocol's `op`, the OpenAPI document's operationId, and the metrics' label.
    static var name: String { get }
    /// Its HTTP method and path (`/api/v1/orders/order/{orderId}`).
    static var route: HTTPRoute { get }

    static func input(http call: HTTPCall) throws(APIError) -> Input
    static func perform(_ input: Input, _ api: APIContext) async throws -> Output
    /// The HTTP answer: status, headers (ETag, Location…) and body.
    static func response(http output: Output, to input: Input) throws -> HTTPResponse
}

/// An operation the line protocol serves as well (every one but the probes, the metrics and the
/// document, which are HTTP's alone).
public protocol LineOperation: APIOperation {
    static func input(line request: RequestFields) throws(APIError) -> Input
    /// The `result` of `{"id":…,"ok":true,"result":…}`: one JSON value, as bytes (stored records
    /// and command outcomes are copied in as they are).
    static func result(line output: Output) throws -> [UInt8]
}

/// Where HTTP serves an operation: a method and a path template whose `{name}` segments are
/// parameters (`HTTPCall.parameter`).
public struct HTTPRoute: Sendable, Hashable, CustomStringConvertible {
    public let method: String
    public let template: String
    /// Probes and metrics: open without a token when the operator says so (`--public-metrics`).
    public let probe: Bool
    /// Open without a token always (the OpenAPI document holds no data).
    public let open: Bool

    public init(_ method: String, _ template: String, probe: Bool = false, open: Bool = false) {
        self.method = method
        self.template = template
        self.probe = probe
        self.open = open
    }

    /// The template's segments: literals, and `{name}` for a parameter.
    public var segments: [String] { template.split(separator: "/").map(String.init) }

    public var description: String { "\(method) \(template)" }

    public static func get(_ template: String) -> HTTPRoute { HTTPRoute("GET", template) }
    public static func post(_ template: String) -> HTTPRoute { HTTPRoute("POST", template) }
    public static func put(_ template: String) -> HTTPRoute { HTTPRoute("PUT", template) }
    public static func delete(_ template: String) -> HTTPRoute { HTTPRoute("DELETE", template) }
}

extension HTTPResponse {
    /// 200 (or `status`) with a JSON body: `{"data": <value>}` is how the operator calls answer.
    public static func json(_ value: JSON, status: Int = 200) -> HTTPResponse {
        HTTPResponse(status: status, body: value.encoded)
    }

    public static func data(_ value: JSON, status: Int = 200) -> HTTPResponse {
        json(["data": value], status: status)
    }
}

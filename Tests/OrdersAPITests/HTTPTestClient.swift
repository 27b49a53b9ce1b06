import OrdersAPI
import Testing
import TestSupport

/// The tests' HTTP client: an `HTTPConnection` whose every answer must conform to the OpenAPI
/// document (an issue is recorded where one does not).
final class HTTPTestClient {
    let connection: HTTPConnection
    let conformance: OpenAPIConformance
    typealias Response = HTTPConnection.Response

    /// `conformance`: the document the answers are held to (a store of several partitions
    /// serves its own, whose positions name their partition).
    init(port: Int, timeout: Duration = .seconds(20), conformance: OpenAPIConformance = .shared) throws {
        connection = try HTTPConnection(port: port, timeout: timeout)
        self.conformance = conformance
    }

    func send(_ raw: String) throws { try connection.send(raw) }
    func readResponse(head: Bool = false) throws -> Response { try connection.readResponse(head: head) }
    func serverCloses() -> Bool { connection.serverCloses() }

    func request(_ method: String, _ path: String, body: String? = nil, headers: [(String, String)] = [],
                 sourceLocation: SourceLocation = #_sourceLocation) throws -> Response {
        let response = try connection.request(method, path, body: body, headers: headers)
        if let problem = conformance.problem(method: method, path: path, status: response.status,
                                                            contentType: response.headers["content-type"], body: response.body) {
            Issue.record("the answer is not what openapi.json says: \(problem)", sourceLocation: sourceLocation)
        }
        return response
    }
}

/// `GET /health/live`: the process serves requests.
enum LiveProbe: APIOperation {
    static let name = "live"
    static let route = HTTPRoute("GET", "/health/live", probe: true)

    static func input(http call: HTTPCall) throws(APIError) {}

    static func perform(_ input: Void, _ api: APIContext) async {}

    static func response(http output: Void, to input: Void) -> HTTPResponse {
        HTTPResponse(status: 200, body: Array(#"{"status":"up"}"#.utf8))
    }
}

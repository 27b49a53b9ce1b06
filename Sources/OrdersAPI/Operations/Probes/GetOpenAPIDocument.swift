/// `GET /openapi.json`: the document this catalogue is held to (`OpenAPIDocumentTests`). Open
/// without a token: it holds no data.
enum GetOpenAPIDocument: APIOperation {
    static let name = "openapi"
    static let route = HTTPRoute("GET", "/openapi.json", open: true)

    static func input(http call: HTTPCall) throws(APIError) {}

    static func perform(_ input: Void, _ api: APIContext) async {}

    static func response(http output: Void, to input: Void) -> HTTPResponse {
        HTTPResponse(status: 200, body: OpenAPIDocument.bytes)
    }
}

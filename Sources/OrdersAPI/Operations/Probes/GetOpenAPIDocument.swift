/// `GET /openapi.json`: the document this catalogue is held to (`OpenAPIDocumentTests`). Open
/// without a token: it holds no data.
enum GetOpenAPIDocument: APIOperation {
    static let name = "openapi"
    static let route = HTTPRoute("GET", "/openapi.json", open: true)

    static func input(http call: HTTPCall) throws(APIError) {}

    /// One document for every store: a position names its partition or not as the store has one
    /// or several.
    static func perform(_ input: Void, _ api: APIContext) async -> [UInt8] {
        OpenAPIDocument.bytes
    }

    static func response(http document: [UInt8], to input: Void) -> HTTPResponse {
        HTTPResponse(status: 200, body: document)
    }
}

/// The OpenAPI 3.1 document of the HTTP API (`Resources/openapi.json`, served at `/openapi.json`).
/// Tests hold the server to it: every route is in it and every route of it is served, and every
/// answer the tests see conforms to it.
public enum OpenAPIDocument {
    public static let bytes: [UInt8] = PackageResources.openapi_json
}

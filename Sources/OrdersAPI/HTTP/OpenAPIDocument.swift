import OrdersDomain

/// The OpenAPI 3.1 document of the HTTP API (`Resources/openapi.json`, served at `/openapi.json`).
/// Tests hold the server to it: every route is in it and every route of it is served, and every
/// answer the tests see conforms to it. The router reads from it which query parameters each
/// operation takes, so a parameter the document does not name is refused, never ignored.
public enum OpenAPIDocument {
    public static let bytes: [UInt8] = PackageResources.openapi_json

    /// Each operation's query parameters, by operationId (`$ref`s to shared parameters resolved).
    static let queryParameters: [String: Set<String>] = {
        guard let document = try? JSON.parse(bytes: bytes), case .object(let paths)? = document["paths"] else { return [:] }
        let shared = document["components"]?["parameters"]
        var names: [String: Set<String>] = [:]
        for case .object(let operations) in paths.values {
            for operation in operations.values {
                guard let id = operation["operationId"]?.string else { continue }
                var query = Set<String>()
                for var parameter in operation["parameters"]?.array ?? [] {
                    if let reference = parameter["$ref"]?.string {
                        parameter = shared?[String(reference.split(separator: "/").last ?? "")] ?? .null
                    }
                    if parameter["in"]?.string == "query", let name = parameter["name"]?.string { query.insert(name) }
                }
                names[id] = query
            }
        }
        return names
    }()
}

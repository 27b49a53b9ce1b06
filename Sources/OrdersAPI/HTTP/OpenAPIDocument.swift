import Foundation

/// The OpenAPI 3.1 document of the HTTP API (`Resources/openapi.json`, served at `/openapi.json`).
/// Tests hold the server to it: every route is in it and every route of it is served, and every
/// answer the tests see conforms to it. The router reads from it which query parameters each
/// operation takes, so a parameter the document does not name is refused, never ignored.
public enum OpenAPIDocument {
    public static let bytes: [UInt8] = PackageResources.openapi_json

    /// Each operation's query parameters, by operationId (`$ref`s to shared parameters resolved).
    static let queryParameters: [String: Set<String>] = {
        guard let document = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any],
              let paths = document["paths"] as? [String: [String: Any]] else { return [:] }
        let shared = (document["components"] as? [String: Any])?["parameters"] as? [String: [String: Any]] ?? [:]
        var names: [String: Set<String>] = [:]
        for operations in paths.values {
            for case let operation as [String: Any] in operations.values {
                guard let id = operation["operationId"] as? String else { continue }
                var query = Set<String>()
                for case var parameter as [String: Any] in operation["parameters"] as? [Any] ?? [] {
                    if let reference = parameter["$ref"] as? String {
                        parameter = shared[String(reference.split(separator: "/").last ?? "")] ?? [:]
                    }
                    if parameter["in"] as? String == "query", let name = parameter["name"] as? String { query.insert(name) }
                }
                names[id] = query
            }
        }
        return names
    }()
}

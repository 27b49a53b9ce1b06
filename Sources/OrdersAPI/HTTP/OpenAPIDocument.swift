import OrdersDomain

/// The OpenAPI 3.1 document of the HTTP API (`Resources/openapi.json`, served at `/openapi.json`).
/// Tests hold the server to it: every route is in it and every route of it is served, and every
/// answer the tests see conforms to it. The router reads from it which query parameters each
/// operation takes, so a parameter the document does not name is refused, never ignored.
public enum OpenAPIDocument {
    public static let bytes: [UInt8] = PackageResources.openapi_json

    /// The document for a store of `partitions` partitions: as written for one; for more, the
    /// log positions it gives out and takes (`LogPosition`, `RequestedPosition`) name one of
    /// its partitions (`3/1795412977216-0`), and only those, so that a client generating values
    /// from the document never makes one the store must refuse.
    public static func bytes(partitions: Int) -> [UInt8] {
        guard partitions > 1, case .object(var document)? = try? JSON.parse(bytes: bytes),
              case .object(var components)? = document["components"], case .object(var schemas)? = components["schemas"] else {
            return bytes
        }
        let partition = "(" + (0..<partitions).map(String.init).joined(separator: "|") + ")/"
        schemas["LogPosition"] = [
            "type": "string", "pattern": .string("^\(partition)[0-9]{1,19}-[0-9]{1,19}$"),
            "description": .string("A log position of one of the store's \(partitions) partitions: `<partition>/<Redis stream id>`."),
            "examples": ["3/1795412977216-0"],
        ]
        schemas["RequestedPosition"] = [
            "type": "string", "pattern": .string("^\(partition)[0-9]{1,19}(-[0-9]{1,19})?$"),
            "description": .string("A log position a command returned (`<partition>/<milliseconds>-<sequence>`, the partition one of the store's \(partitions)); milliseconds alone mean `<milliseconds>-0`."),
            "examples": ["3/1795412977216-0"],
        ]
        components["schemas"] = .object(schemas)
        document["components"] = .object(components)
        return JSON.object(document).encoded
    }

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

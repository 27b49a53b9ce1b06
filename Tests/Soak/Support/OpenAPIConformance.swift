import Foundation
import OrdersAPI
import OrdersDomain

/// Holds answers to the OpenAPI document (`OpenAPIDocument`): finds the operation of a method and
/// path, the response of a status, and validates the body against its schema (the JSON Schema
/// subset the document uses: $ref, type, properties, required, additionalProperties, items, enum,
/// pattern, oneOf, minimum, maximum, minLength, minItems, format date-time).
public struct OpenAPIConformance: Sendable {
    public static let shared = OpenAPIConformance()

    public let document: JSON

    public init(document bytes: [UInt8] = OpenAPIDocument.bytes) {
        document = (try? JSON.parse(bytes: bytes)) ?? .null
    }

    /// Statuses any request may get whatever its operation (the document's description lists them).
    public static let generic: Set<Int> = [404, 405, 408, 411, 413, 414, 417, 431, 505]

    public var paths: [String: JSON] {
        if case .object(let paths)? = document["paths"] { return paths }
        return [:]
    }

    /// The path template a concrete path matches ("/api/v1/orders/order/{orderId}").
    public func template(for path: String) -> String? {
        let segments = path.split(separator: "?", maxSplits: 1).first.map { $0.split(separator: "/").map(String.init) } ?? []
        return paths.keys.first { template in
            let parts = template.split(separator: "/").map(String.init)
            return parts.count == segments.count && zip(parts, segments).allSatisfy { $0.hasPrefix("{") || $0 == $1 }
        }
    }

    /// What is wrong with an answer, or nil when it conforms.
    public func problem(method: String, path: String, status: Int, contentType: String?, body: [UInt8]) -> String? {
        guard let template = template(for: path) else {
            // No route: 404, or 400 for a path that is not valid percent-encoded UTF-8.
            return status == 404 || status == 400 ? nil : "\(path) is not in the document but answered \(status)"
        }
        let verb = method == "HEAD" ? "get" : method.lowercased()
        guard let operation = paths[template]?[verb] else {
            return status == 405 ? nil : "\(method) \(template) is not in the document but answered \(status)"
        }
        guard var response = operation["responses"]?[String(status)] else {
            return Self.generic.contains(status) ? nil : "\(method) \(template) answered \(status), which the document does not list"
        }
        if let reference = response["$ref"]?.string { response = resolve(reference) ?? .null }
        guard case .object(let contents)? = response["content"] else {
            return body.isEmpty ? nil : "\(method) \(template) \(status) has a body the document does not describe"
        }
        guard method != "HEAD" else { return nil }
        let type = contentType?.lowercased() ?? ""
        guard let (declared, content) = contents.first(where: { type.hasPrefix($0.key.split(separator: ";")[0].lowercased()) }) else {
            return "\(method) \(template) \(status) is \(type), the document says \(contents.keys.sorted())"
        }
        guard let schema = content["schema"] else { return nil }
        if declared.hasPrefix("text/") { return nil }
        guard let value = try? JSON.parse(bytes: body) else { return "\(method) \(template) \(status): the body is not JSON" }
        return validate(value, schema, at: "body").map { "\(method) \(template) \(status): \($0)" }
    }

    public func resolve(_ reference: String) -> JSON? {
        guard reference.hasPrefix("#/") else { return nil }
        var node: JSON? = document
        for part in reference.dropFirst(2).split(separator: "/") { node = node?[String(part)] }
        return node
    }

    /// The first way `value` breaks `schema`, or nil.
    public func validate(_ value: JSON, _ schema: JSON, at where: String) -> String? {
        if let reference = schema["$ref"]?.string {
            guard let target = resolve(reference) else { return "\(`where`): unresolved \(reference)" }
            return validate(value, target, at: `where`)
        }
        if let options = schema["oneOf"]?.array {
            let matching = options.filter { validate(value, $0, at: `where`) == nil }.count
            return matching == 1 ? nil : "\(`where`): matches \(matching) of oneOf, not 1"
        }
        if let allowed = schema["enum"]?.array, !allowed.contains(value) { return "\(`where`): \(value) is not one of the enum" }
        switch schema["type"]?.string {
        case "string"?:
            guard case .string(let text) = value else { return "\(`where`): expected a string, got \(value)" }
            if let minimum = schema["minLength"]?.int, text.count < minimum { return "\(`where`): shorter than \(minimum)" }
            if let pattern = schema["pattern"]?.string, text.range(of: pattern, options: .regularExpression) == nil {
                return "\(`where`): '\(text)' does not match \(pattern)"
            }
            if schema["format"]?.string == "date-time", Timestamp(parsing: text) == nil { return "\(`where`): '\(text)' is not a date-time" }
        case "integer"?:
            guard case .int(let number) = value else { return "\(`where`): expected an integer, got \(value)" }
            if let minimum = schema["minimum"]?.int, number < minimum { return "\(`where`): below \(minimum)" }
            if let maximum = schema["maximum"]?.int, number > maximum { return "\(`where`): above \(maximum)" }
        case "number"?:
            switch value { case .int, .double: break; default: return "\(`where`): expected a number, got \(value)" }
        case "boolean"?:
            guard case .bool = value else { return "\(`where`): expected a boolean, got \(value)" }
        case "null"?:
            guard case .null = value else { return "\(`where`): expected null, got \(value)" }
        case "array"?:
            guard case .array(let elements) = value else { return "\(`where`): expected an array, got \(value)" }
            if let minimum = schema["minItems"]?.int, elements.count < minimum { return "\(`where`): fewer than \(minimum) items" }
            if let items = schema["items"] {
                for (index, element) in elements.enumerated() {
                    if let problem = validate(element, items, at: "\(`where`)[\(index)]") { return problem }
                }
            }
        case "object"?:
            guard case .object(let fields) = value else { return "\(`where`): expected an object, got \(value)" }
            for name in schema["required"]?.array?.compactMap(\.string) ?? [] where fields[name] == nil {
                return "\(`where`): lacks required \(name)"
            }
            var properties: [String: JSON] = [:]
            if case .object(let declared)? = schema["properties"] { properties = declared }
            for (name, field) in fields {
                if let property = properties[name] {
                    if let problem = validate(field, property, at: "\(`where`).\(name)") { return problem }
                } else if let additional = schema["additionalProperties"] {
                    if additional == .bool(false) { return "\(`where`): \(name) is not in the schema" }
                    if case .object = additional, let problem = validate(field, additional, at: "\(`where`).\(name)") { return problem }
                }
            }
        default:
            break
        }
        return nil
    }
}

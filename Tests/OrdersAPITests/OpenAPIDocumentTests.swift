@testable import OrdersAPI
import OrdersDomain
import Testing
import TestSupport

/// The OpenAPI document is valid and says exactly what the server does: every route the router
/// serves is in it with the same methods, and nothing else is.
struct OpenAPIDocumentTests {
    let conformance = OpenAPIConformance.shared

    @Test func theDocumentIsOpenAPI31WithEveryReferenceResolvedAndEveryOperationComplete() throws {
        let document = conformance.document
        #expect(document["openapi"]?.string == "3.1.0")
        #expect(document["info"]?["title"]?.string != nil && document["info"]?["version"]?.string != nil)
        var references: [String] = []
        func walk(_ node: JSON) {
            switch node {
            case .object(let fields):
                if let reference = fields["$ref"]?.string { references.append(reference) }
                fields.values.forEach(walk)
            case .array(let elements): elements.forEach(walk)
            default: break
            }
        }
        walk(document)
        #expect(!references.isEmpty)
        for reference in references { #expect(conformance.resolve(reference) != nil, "unresolved \(reference)") }

        var operationIds: [String] = []
        for (template, item) in conformance.paths {
            guard case .object(let operations) = item else { Issue.record("\(template) is not an object"); continue }
            let parameters = template.split(separator: "/").filter { $0.hasPrefix("{") }.map { String($0.dropFirst().dropLast()) }
            for (method, operation) in operations {
                #expect(["get", "put", "post", "delete"].contains(method), "\(method) \(template)")
                guard let id = operation["operationId"]?.string else { Issue.record("\(method) \(template) has no operationId"); continue }
                operationIds.append(id)
                guard case .object(let responses)? = operation["responses"], !responses.isEmpty else {
                    Issue.record("\(id) has no responses")
                    continue
                }
                #expect(responses.keys.allSatisfy { Int($0) != nil }, "\(id): statuses are numbers")
                let declared = (operation["parameters"]?.array ?? []).compactMap { parameter -> String? in
                    let resolved = parameter["$ref"]?.string.flatMap(conformance.resolve) ?? parameter
                    return resolved["in"]?.string == "path" ? resolved["name"]?.string : nil
                }
                #expect(Set(declared) == Set(parameters), "\(id): path parameters \(declared) for \(template)")
            }
        }
        #expect(Set(operationIds).count == operationIds.count, "operationIds are unique")
    }

    @Test func everyOperationOfTheCatalogueIsDocumentedAndEveryDocumentedOperationIsInIt() {
        let catalogue = OperationCatalogue.standard
        let served = Set(catalogue.entries.map { "\($0.route.method.lowercased()) \($0.route.template)" })
        var documented: Set<String> = []
        for (template, item) in conformance.paths {
            if case .object(let operations) = item { for method in operations.keys { documented.insert("\(method) \(template)") } }
        }
        #expect(served.subtracting(documented).isEmpty, "served but not documented")
        #expect(documented.subtracting(served).isEmpty, "documented but not served")
        // Each documented operation's id is its name in the catalogue: the line protocol's op
        // and the metrics' label.
        for entry in catalogue.entries {
            #expect(conformance.paths[entry.route.template]?[entry.route.method.lowercased()]?["operationId"]?.string == entry.name,
                    "\(entry.route)")
        }
    }
}

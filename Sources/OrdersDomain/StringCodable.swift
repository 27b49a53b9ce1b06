/// A value stored and sent as its text form (`"19.98"`, `"2026-11-22T10:00:00.000Z"`,
/// `"1795375537767-0"`): `Codable` through `description` and a failable parse.
public protocol StringCodable: Codable, CustomStringConvertible {
    init?(parsingText text: String)
    /// What the value is, for the decoding error ("an amount", "an ISO-8601 time").
    static var textKind: String { get }
}

extension StringCodable {
    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let value = Self(parsingText: text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath,
                                                    debugDescription: "'\(text)' is not \(Self.textKind)"))
        }
        self = value
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

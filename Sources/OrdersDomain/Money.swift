/// An exact amount of money in minor units (cents). Never binary floating point: amounts are
/// parsed from and printed as decimal strings ("19.98"), and sums are integer sums.
public struct Money: Sendable, Hashable, Comparable, StringCodable {
    public var cents: Int64

    public init(cents: Int64) { self.cents = cents }

    public static let zero = Money(cents: 0)

    /// Parses "19.98", "19.9", "19", "-3.50". At most two decimals; no exponent, no spaces.
    public init?(decimal text: some StringProtocol) {
        var digits = Substring(text)
        let negative = digits.hasPrefix("-")
        if negative { digits = digits.dropFirst() }
        let parts = digits.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), !parts[0].isEmpty, parts[0].count <= 15,
              parts[0].allSatisfy(\.isASCIIDigit) else { return nil }
        var cents = Int64(parts[0])! * 100
        if parts.count == 2 {
            let fraction = parts[1]
            guard (1...2).contains(fraction.count), fraction.allSatisfy(\.isASCIIDigit) else { return nil }
            cents += Int64(fraction)! * (fraction.count == 1 ? 10 : 1)
        }
        self.cents = negative ? -cents : cents
    }

    public var description: String {
        let magnitude = cents.magnitude
        let fraction = magnitude % 100
        return (cents < 0 ? "-" : "") + "\(magnitude / 100)." + (fraction < 10 ? "0" : "") + "\(fraction)"
    }

    public static func < (a: Money, b: Money) -> Bool { a.cents < b.cents }
    public static func + (a: Money, b: Money) -> Money { Money(cents: a.cents + b.cents) }
    public static func - (a: Money, b: Money) -> Money { Money(cents: a.cents - b.cents) }
    public static func += (a: inout Money, b: Money) { a.cents += b.cents }
    public static func -= (a: inout Money, b: Money) { a.cents -= b.cents }
    public static func * (a: Money, quantity: Int) -> Money { Money(cents: a.cents * Int64(quantity)) }

    // Stored and sent as its decimal string, so JSON never carries a binary float.
    public init?(parsingText text: String) { self.init(decimal: text) }
    public static let textKind = "an amount"
}

extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}

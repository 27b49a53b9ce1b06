/// An exact amount of money in minor units (cents). Never binary floating point: amounts are
/// parsed from and printed as decimal strings ("19.98"), and sums are integer sums.
public struct Money: Sendable, Hashable, Comparable, StringCodable {
    public var cents: Int64

    public init(cents: Int64) { self.cents = cents }

    public static let zero = Money(cents: 0)

    /// Parses "19.98", "19.9", "19", "-3.50". At most two decimals, at most 15 digits before
    /// the point; no exponent, no spaces. Read byte by byte: it runs for every item of every order.
    public init?(decimal text: some StringProtocol) {
        var cents: Int64 = 0
        var negative = false
        var whole = 0, fraction = -1 // digits before the point; after it (-1: no point)
        for (index, byte) in text.utf8.enumerated() {
            switch byte {
            case UInt8(ascii: "-") where index == 0:
                negative = true
            case UInt8(ascii: "."):
                guard fraction < 0, whole > 0 else { return nil }
                fraction = 0
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                if fraction < 0 {
                    whole += 1
                    guard whole <= 15 else { return nil }
                } else {
                    fraction += 1
                    guard fraction <= 2 else { return nil }
                }
                cents = cents * 10 + Int64(byte - UInt8(ascii: "0"))
            default:
                return nil
            }
        }
        guard whole > 0, fraction != 0 else { return nil }
        for _ in 0..<(2 - max(0, fraction)) { cents *= 10 }
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


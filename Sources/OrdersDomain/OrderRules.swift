/// The limits an order's fields must respect. One place, so the API docs and the checks agree.
public enum OrderRules {
    public static let customerNameLength = 1...200
    public static let emailLength = 3...254
    public static let itemCount = 1...100
    public static let quantity = 1...10_000
    public static let skuLength = 1...64
    public static let itemNameLength = 1...200
    public static let reasonLength = 0...500
    /// 1,000,000.00. Keeps an order's total (at most 100 items × 10,000 × this = 10^14 cents)
    /// below 2^53, so it stays exact where Redis keeps numbers as doubles (sorted-set scores,
    /// Lua numbers) as well as in Int64.
    public static let maxUnitPrice = Money(cents: 100_000_000)

    static func validateCreate(customerName: String, customerEmail: String,
                               items: [OrderItem]) throws(DomainError) {
        try check(length: length(of: customerName), in: customerNameLength, "customerName")
        guard !isBlank(customerName) else {
            throw .validation("customerName must not be blank")
        }
        try checkPrintable(customerName, "customerName")
        try validateEmail(customerEmail)
        try checkItemCount(items.count)
        for (index, item) in items.enumerated() {
            let field = "items[\(index)]"
            try check(length: length(of: item.sku), in: skuLength, "\(field).sku")
            try check(length: length(of: item.name), in: itemNameLength, "\(field).name")
            try checkPrintable(item.sku, "\(field).sku")
            try checkPrintable(item.name, "\(field).name")
            guard quantity.contains(item.quantity) else {
                throw .validation("\(field).quantity must be between \(quantity.lowerBound) and \(quantity.upperBound), got \(item.quantity)")
            }
            guard item.unitPrice >= .zero else {
                throw .validation("\(field).unitPrice must not be negative, got \(item.unitPrice)")
            }
            guard item.unitPrice <= maxUnitPrice else {
                throw .validation("\(field).unitPrice must be at most \(maxUnitPrice), got \(item.unitPrice)")
            }
        }
    }

    public static func checkItemCount(_ count: Int) throws(DomainError) {
        guard itemCount.contains(count) else {
            throw .validation("an order needs between \(itemCount.lowerBound) and \(itemCount.upperBound) items, got \(count)")
        }
    }

    static func validateReason(_ reason: String?) throws(DomainError) {
        guard let reason else { return }
        try check(length: length(of: reason), in: reasonLength, "reason")
        try checkPrintable(reason, "reason")
    }

    /// A practical check, not RFC 5322: one '@', a non-empty local part, a dotted domain, no spaces.
    static func validateEmail(_ email: String) throws(DomainError) {
        try check(length: length(of: email), in: emailLength, "customerEmail")
        try checkPrintable(email, "customerEmail")
        if isASCII(email) {
            guard validASCIIEmail(email) else {
                throw .validation("customerEmail '\(email.prefix(80))' is not a valid email address")
            }
            return
        }
        // By code points, as the document's pattern reads it (a combining mark after the '@'
        // does not hide it).
        let scalars = Array(email.unicodeScalars)
        let parts = scalars.split(separator: "@", omittingEmptySubsequences: false)
        let valid = parts.count == 2 && !parts[0].isEmpty && parts[1].contains(".")
            && parts[1].first != "." && parts[1].last != "."
            && !scalars.contains(where: \.properties.isWhitespace)
        guard valid else { throw .validation("customerEmail '\(email.prefix(80))' is not a valid email address") }
    }

    /// Names, skus and reasons are shown in tables and logs: no control characters (NUL, newline, …).
    static func checkPrintable(_ text: String, _ field: String) throws(DomainError) {
        let control = isASCII(text)
            ? text.utf8.contains { $0 < 0x20 || $0 == 0x7f }
            : text.unicodeScalars.contains { $0.properties.generalCategory == .control }
        guard !control else {
            throw .validation("\(field) must not contain control characters")
        }
    }

    // MARK: - ASCII first
    //
    // Most names, emails and skus are ASCII; for them the checks read bytes instead of walking
    // characters and Unicode properties (a tenth of a createOrder's CPU before). Other text takes
    // the general path, with the same answers.

    private static func isASCII(_ text: String) -> Bool {
        text.utf8.allSatisfy { $0 < 0x80 }
    }

    /// Length in Unicode code points, as JSON Schema's `minLength`/`maxLength` count (the API
    /// document states these limits): in ASCII one byte is one.
    private static func length(of text: String) -> Int {
        isASCII(text) ? text.utf8.count : text.unicodeScalars.count
    }

    private static func isBlank(_ text: String) -> Bool {
        isASCII(text) ? text.utf8.allSatisfy { $0 == 0x20 || (0x09...0x0d).contains($0) } : text.unicodeScalars.allSatisfy(\.properties.isWhitespace)
    }

    /// `validateEmail`'s rule over ASCII bytes.
    private static func validASCIIEmail(_ email: String) -> Bool {
        let bytes = email.utf8
        guard !bytes.contains(where: { $0 == 0x20 || (0x09...0x0d).contains($0) }),
              let at = bytes.firstIndex(of: UInt8(ascii: "@")), at != bytes.startIndex else { return false }
        let domain = bytes[bytes.index(after: at)...]
        return !domain.contains(UInt8(ascii: "@")) && domain.contains(UInt8(ascii: "."))
            && domain.first != UInt8(ascii: ".") && domain.last != UInt8(ascii: ".")
    }

    private static func check(length: Int, in range: ClosedRange<Int>, _ field: String) throws(DomainError) {
        guard range.contains(length) else {
            throw .validation("\(field) must be \(range.lowerBound) to \(range.upperBound) characters, got \(length)")
        }
    }
}

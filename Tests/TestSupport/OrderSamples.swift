import OrdersDomain
import OrdersReadSide

/// Random orders whose texts hold what breaks naive JSON handling (quotes, backslashes, escapes,
/// control characters, non-ASCII, JSON-looking fragments), for tests of the record and answer
/// encodings.
public enum OrderSamples {
    public static let texts = ["Ann Lee", "Zoë Müller", "quote \" and \\ backslash", "comma, {brace} [bracket]", "東京", "tab\there",
                               "new\nline", "emoji 🎉", "a\"}],\"x\":{\"", "\u{1}control", "slash / \\u0041", ""]

    /// Order number `round`: 1–4 items, 1–6 status changes, a cancel reason half the time.
    public static func random(_ round: Int, using generator: inout some RandomNumberGenerator) -> OrderView {
        func text() -> String {
            let text = texts.randomElement(using: &generator)! + (Bool.random(using: &generator) ? "\(round)" : "")
            return text.isEmpty ? "x" : text
        }
        let items = (0..<Int.random(in: 1...4, using: &generator)).map { _ in
            OrderItem(sku: text(), name: text(), quantity: Int.random(in: 1...9, using: &generator),
                      unitPrice: Money(cents: Int64.random(in: 0...100_000_00, using: &generator)))
        }
        let created = Timestamp(milliseconds: Int64.random(in: 1_600_000_000_000...1_900_000_000_000, using: &generator))
        let history = (0..<Int.random(in: 1...6, using: &generator)).map { index in
            OrderView.StatusChange(status: OrderStatus.allCases.randomElement(using: &generator)!,
                                   at: Timestamp(milliseconds: created.milliseconds + Int64(index)))
        }
        return OrderView(orderId: "o-\(round)", customerName: text(), customerEmail: "c\(round)@example.com", items: items,
                         status: history.last!.status, statusHistory: history,
                         cancelReason: Bool.random(using: &generator) ? text() : nil,
                         createdAt: created, updatedAt: history.last!.at, version: Int.random(in: 1...50, using: &generator))
    }
}

/// Order ids and command ids become parts of key names, so they are restricted to characters
/// that cannot change a key's structure: letters, digits, '-' and '_', 1 to 64 of them.
public enum Identifier {
    public static func isValid(_ text: String) -> Bool {
        (1...64).contains(text.utf8.count)
            && text.utf8.allSatisfy { ($0 >= 48 && $0 <= 57) || ($0 >= 65 && $0 <= 90) || ($0 >= 97 && $0 <= 122) || $0 == 45 || $0 == 95 }
    }
}

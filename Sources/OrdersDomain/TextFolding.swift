import Foundation

/// How text people type is compared: Unicode compatibility normalization (NFKC) and full case
/// folding, so "Zoë" typed precomposed finds "Zoë" stored decomposed, "ΣΟΣ" finds "Σος"
/// (final sigma), "STRASSE" finds "Straße", and full-width "Ａｎｎ" finds "Ann". Search terms
/// and queries go through `words`, customer emails through `fold`: one function on both sides.
public enum TextFolding {
    /// NFKC, full case folding, NFKC again (folding can leave text unnormalized). ASCII text,
    /// most of it, is only lower-cased: that is what both steps do to it.
    public static func fold(_ text: String) -> String {
        if text.utf8.allSatisfy({ $0 < 0x80 }) { return text.lowercased() }
        return text.precomposedStringWithCompatibilityMapping
            .folding(options: .caseInsensitive, locale: nil)
            .precomposedStringWithCompatibilityMapping
    }

    /// The folded text's words: maximal runs of letters and digits (any script), each cut to 64
    /// scalars. What the search index holds and what a query is split into.
    public static func words(_ text: String) -> [String] {
        if text.utf8.allSatisfy({ $0 < 0x80 }) { return asciiWords(text) }
        var words: [String] = []
        // Unicode scalars rather than Characters: Character.isLetter runs grapheme breaking and
        // was a tenth of a rebuild's time.
        var word = String.UnicodeScalarView()
        var length = 0
        for scalar in fold(text).unicodeScalars {
            if isWordScalar(scalar) {
                if length < 64 { word.append(scalar) }
                length += 1
            } else if !word.isEmpty {
                words.append(String(word))
                word = String.UnicodeScalarView()
                length = 0
            }
        }
        if !word.isEmpty { words.append(String(word)) }
        return words
    }

    /// `words` of ASCII text, read as bytes: lower-cased runs of letters and digits, each cut to
    /// 64 characters (what NFKC and case folding make of ASCII).
    private static func asciiWords(_ text: String) -> [String] {
        var words: [String] = []
        var word: [UInt8] = []
        var length = 0
        for byte in text.utf8 {
            switch byte {
            case 0x30...0x39, 0x61...0x7A, 0x41...0x5A:
                if length < 64 { word.append(byte | (byte >= 0x41 && byte <= 0x5A ? 0x20 : 0)) }
                length += 1
            default:
                if !word.isEmpty {
                    words.append(String(decoding: word, as: UTF8.self))
                    word.removeAll(keepingCapacity: true)
                    length = 0
                }
            }
        }
        if !word.isEmpty { words.append(String(decoding: word, as: UTF8.self)) }
        return words
    }

    /// Letters and digits of any script (combining marks too: a decomposed accent that NFKC
    /// could not compose stays in its word); ASCII answered without the Unicode tables.
    private static func isWordScalar(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x30...0x39, 0x61...0x7A, 0x41...0x5A: return true
        case 0..<0x80: return false
        default:
            let properties = scalar.properties
            return properties.isAlphabetic || properties.numericType != nil
                || properties.generalCategory == .nonspacingMark || properties.generalCategory == .spacingMark
        }
    }
}

import Foundation

/// Splits text into words for rule matching, and normalizes each word so trivial evasions do not
/// pass: compatibility forms (NFKC: full-width letters, ligatures), case (full case folding),
/// and invisible characters (zero-width spaces, soft hyphens) inside a word.
///
/// Words are runs of letters, digits and combining marks; everything else separates them. Each
/// word keeps its range in the original text, so a mask can replace exactly what matched.
enum WordScanner {
    /// One word of a text: where it is, and the form rules compare.
    struct Word: Equatable {
        let range: Range<String.Index>
        let key: String
    }

    /// The words of `text`, in order. ASCII words take a fast path; only words with other
    /// characters pay for Unicode normalization.
    static func words(in text: String) -> [Word] {
        var words: [Word] = []
        let scalars = text.unicodeScalars
        var index = scalars.startIndex
        var start: String.Index?
        var ascii = true
        while index < scalars.endIndex {
            let scalar = scalars[index]
            let inWord = isWordScalar(scalar) || (start != nil && scalar.properties.isDefaultIgnorableCodePoint)
            if inWord {
                if start == nil {
                    start = index
                    ascii = true
                }
                if !scalar.isASCII { ascii = false }
            } else if let begin = start {
                append(text, begin..<index, ascii: ascii, to: &words)
                start = nil
            }
            index = scalars.index(after: index)
        }
        if let begin = start { append(text, begin..<scalars.endIndex, ascii: ascii, to: &words) }
        return words
    }

    /// The normalized words of a rule's pattern (a word or a phrase).
    static func keys(of pattern: String) -> [String] {
        words(in: pattern).map(\.key)
    }

    private static func append(_ text: String, _ range: Range<String.Index>, ascii: Bool, to words: inout [Word]) {
        if ascii {
            words.append(Word(range: range, key: lowercasedASCII(text.utf8[range])))
            return
        }
        // Normalization may split one written word into several (a circled digit, a fraction).
        let visible = String(
            String.UnicodeScalarView(
                text.unicodeScalars[range].filter {
                    !$0.properties.isDefaultIgnorableCodePoint
                }))
        let folded = fold(visible)
        var key = ""
        for scalar in folded.unicodeScalars {
            if isWordScalar(scalar) {
                key.unicodeScalars.append(scalar)
            } else if !key.isEmpty {
                words.append(Word(range: range, key: key))
                key = ""
            }
        }
        if !key.isEmpty { words.append(Word(range: range, key: key)) }
    }

    /// NFKC, then full case folding.
    static func fold(_ text: String) -> String {
        text.precomposedStringWithCompatibilityMapping.folding(options: [.caseInsensitive], locale: nil)
    }

    private static func lowercasedASCII(_ bytes: Substring.UTF8View) -> String {
        String(unsafeUninitializedCapacity: bytes.count) { buffer in
            var count = 0
            for byte in bytes {
                buffer[count] = byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte
                count += 1
            }
            return count
        }
    }

    static func isWordScalar(_ scalar: Unicode.Scalar) -> Bool {
        if scalar.isASCII {
            let value = scalar.value
            return (value >= 0x30 && value <= 0x39) || (value >= 0x41 && value <= 0x5A)
                || (value >= 0x61 && value <= 0x7A)
        }
        let properties = scalar.properties
        if properties.isAlphabetic || properties.numericType != nil { return true }
        switch properties.generalCategory {
        case .nonspacingMark, .spacingMark, .enclosingMark: return true
        default: return false
        }
    }
}

import Foundation

/// Splits text into words for rule matching, and normalizes each word so trivial evasions do not
/// pass: compatibility forms (NFKC: full-width letters, ligatures), case (full case folding),
/// and invisible characters (zero-width spaces, soft hyphens) inside a word.
///
/// Words are runs of letters, digits and combining marks; everything else separates them. Each
/// word keeps where it is in the original text (UTF-8 offsets), so a mask can replace exactly
/// what matched.
enum WordScanner {
    /// One word of a text: where it is (UTF-8 offsets), and the hash of the form rules compare.
    /// `folded` is that form for words that needed Unicode normalization; for ASCII words it is
    /// the lowercased bytes at `start..<end`, see ``key(of:in:)``.
    struct Word: Equatable {
        let start: Int
        let end: Int
        let hash: UInt64
        let folded: String?
    }

    /// The normalized form of a word of `text`.
    static func key(of word: Word, in text: String) -> String {
        if let folded = word.folded { return folded }
        let utf8 = text.utf8
        let start = utf8.index(utf8.startIndex, offsetBy: word.start)
        let end = utf8.index(start, offsetBy: word.end - word.start)
        return String(decoding: utf8[start..<end].map { $0 >= 0x41 && $0 <= 0x5A ? $0 | 0x20 : $0 }, as: UTF8.self)
    }

    /// FNV-1a over UTF-8 bytes: the hash words and rule keys are looked up by.
    static func hash(_ key: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in key.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return hash
    }

    /// The words of `text`, in order, in one pass over its UTF-8 bytes. ASCII words are hashed
    /// as they are read; only words with other characters pay for Unicode normalization.
    static func words(in text: String) -> [Word] {
        var text = text
        return text.withUTF8 { bytes in
            var words: [Word] = []
            words.reserveCapacity(bytes.count / 5)
            var start = -1
            var hash: UInt64 = 0
            var ascii = true
            var index = 0
            while index < bytes.count {
                let byte = bytes[index]
                var length = 1
                let inWord: Bool
                if byte < 0x80 {
                    inWord = asciiWordByte[Int(byte)]
                } else {
                    let scalar = decode(bytes, at: index, length: &length)
                    inWord =
                        isWordScalar(scalar) || (start >= 0 && scalar.properties.isDefaultIgnorableCodePoint)
                }
                if inWord {
                    if start < 0 {
                        start = index
                        hash = 0xcbf2_9ce4_8422_2325
                        ascii = true
                    }
                    if byte < 0x80 {
                        let lower = byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte
                        hash = (hash ^ UInt64(lower)) &* 0x100_0000_01b3
                    } else {
                        ascii = false
                    }
                } else if start >= 0 {
                    finish(bytes, start..<index, ascii: ascii, hash: hash, into: &words)
                    start = -1
                }
                index += length
            }
            if start >= 0 { finish(bytes, start..<bytes.count, ascii: ascii, hash: hash, into: &words) }
            return words
        }
    }

    /// The scalar whose UTF-8 starts at `index` (valid UTF-8: it comes from a String).
    private static func decode(_ bytes: UnsafeBufferPointer<UInt8>, at index: Int, length: inout Int) -> Unicode.Scalar
    {
        let lead = UInt32(bytes[index])
        var value: UInt32
        if lead >= 0xF0 {
            length = 4
            value = lead & 0x07
        } else if lead >= 0xE0 {
            length = 3
            value = lead & 0x0F
        } else {
            length = 2
            value = lead & 0x1F
        }
        for offset in 1..<length where index + offset < bytes.count {
            value = value << 6 | (UInt32(bytes[index + offset]) & 0x3F)
        }
        return Unicode.Scalar(value) ?? "\u{FFFD}"
    }

    private static func finish(
        _ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, ascii: Bool, hash: UInt64, into words: inout [Word]
    ) {
        if ascii {
            words.append(Word(start: range.lowerBound, end: range.upperBound, hash: hash, folded: nil))
            return
        }
        // Normalization may split one written word into several (a circled digit, a fraction).
        let written = String(decoding: UnsafeBufferPointer(rebasing: bytes[range]), as: UTF8.self)
        let visible = String(
            String.UnicodeScalarView(written.unicodeScalars.filter { !$0.properties.isDefaultIgnorableCodePoint }))
        var key = ""
        for scalar in fold(visible).unicodeScalars {
            if isWordScalar(scalar) {
                key.unicodeScalars.append(scalar)
            } else if !key.isEmpty {
                words.append(Word(start: range.lowerBound, end: range.upperBound, hash: self.hash(key), folded: key))
                key = ""
            }
        }
        if !key.isEmpty {
            words.append(Word(start: range.lowerBound, end: range.upperBound, hash: self.hash(key), folded: key))
        }
    }

    /// The normalized words of a rule's pattern (a word or a phrase).
    static func keys(of pattern: String) -> [String] {
        words(in: pattern).map { key(of: $0, in: pattern) }
    }

    /// NFKC, then full case folding.
    static func fold(_ text: String) -> String {
        text.precomposedStringWithCompatibilityMapping.folding(options: [.caseInsensitive], locale: nil)
    }

    /// `0-9 A-Z a-z`.
    private static let asciiWordByte: [Bool] = (0..<128).map { byte in
        (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte)
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

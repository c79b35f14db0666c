import Foundation

/// The strict, unpadded, canonical base64 of age headers (standard alphabet).
enum AgeBase64 {
    /// Encodes without padding.
    static func encode(_ bytes: some Collection<UInt8>) -> String {
        var text = Data(bytes).base64EncodedString()
        while text.hasSuffix("=") { text.removeLast() }
        return text
    }

    /// Decodes unpadded base64, refusing padding, stray characters and non-canonical trailing bits.
    static func decode(_ text: some StringProtocol) -> [UInt8]? {
        let text = String(text)
        guard text.utf8.count % 4 != 1,
            text.utf8.allSatisfy({ byte in
                (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
                    || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
                    || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: "+")
                    || byte == UInt8(ascii: "/")
            })
        else { return nil }
        let padded = text + String(repeating: "=", count: (4 - text.utf8.count % 4) % 4)
        guard let data = Data(base64Encoded: padded) else { return nil }
        // Canonical: re-encoding gives the same text (no stray low bits in the last character).
        guard encode(data) == text else { return nil }
        return [UInt8](data)
    }
}

extension SecretToken {
    /// What a secret is replaced by wherever it would be logged.
    public static let redactedMark = "[redacted]"

    /// `text` with every secret Hearth makes replaced by ``redactedMark``: a run of exactly 43
    /// base64url characters (``generate(bytes:)``: session, setup, link and reset tokens) or of
    /// exactly 26 base32 characters (``generateCode()``: invite codes). The shapes are exact, so
    /// dates, file names and numbers pass unchanged; a username that happens to have one of
    /// them is redacted too, which costs a log reader little.
    public static func redacting(_ text: String) -> String {
        let bytes = Array(text.utf8)
        var output: [UInt8] = []
        var changed = false
        var index = 0
        while index < bytes.count {
            guard isBase64URL(bytes[index]) else {
                output.append(bytes[index])
                index += 1
                continue
            }
            var end = index
            while end < bytes.count, isBase64URL(bytes[end]) { end += 1 }
            let run = bytes[index..<end]
            if run.count == 43 || (run.count == 26 && run.allSatisfy(isBase32)) {
                output.append(contentsOf: redactedMark.utf8)
                changed = true
            } else {
                output.append(contentsOf: run)
            }
            index = end
        }
        return changed ? String(decoding: output, as: UTF8.self) : text
    }

    private static func isBase64URL(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"):
            true
        default: false
        }
    }

    private static func isBase32(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "2")...UInt8(ascii: "7")).contains(byte)
    }
}

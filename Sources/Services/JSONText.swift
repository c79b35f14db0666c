import Foundation

/// JSON written by hand where it is hot (a message frame, a push payload), and what that needs:
/// string literals.
public enum JSONText {
    /// `value` as compact JSON with sorted keys, the form every frame takes.
    public static func encode(_ value: some Encodable) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(value) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }

    /// Appends `text` as a JSON string literal: quotes, backslashes and control characters escaped.
    @inlinable public static func appendString(_ text: String, to out: inout String) {
        out.append("\"")
        var plain = true
        for byte in text.utf8 where byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") {
            plain = false
            break
        }
        if plain {
            out.append(text)
        } else {
            for scalar in text.unicodeScalars {
                switch scalar {
                case "\"": out.append("\\\"")
                case "\\": out.append("\\\\")
                case "\n": out.append("\\n")
                case "\r": out.append("\\r")
                case "\t": out.append("\\t")
                case let control where control.value < 0x20:
                    out.append(String(format: "\\u%04x", control.value))
                default: out.unicodeScalars.append(scalar)
                }
            }
        }
        out.append("\"")
    }
}

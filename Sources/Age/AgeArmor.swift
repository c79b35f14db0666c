import Foundation

/// The ASCII armor of age files: PEM-style, standard base64 with padding, 64 columns.
enum AgeArmor {
    static let begin = "-----BEGIN AGE ENCRYPTED FILE-----"
    static let end = "-----END AGE ENCRYPTED FILE-----"

    static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0D || byte == 0x0A
    }

    /// Reads armored text line by line and hands out the decoded bytes: strict about everything
    /// inside the armor, lenient about whitespace around it and about CRLF line endings.
    struct Decoder<Input: AgeInput>: AgeInput {
        var reader: BufferedReader<Input>
        var started = false
        var finished = false
        var sawShortLine = false
        var pending: [UInt8] = []

        init(_ reader: BufferedReader<Input>) {
            self.reader = reader
        }

        /// A line without its `\n` or `\r\n`.
        mutating func line() throws -> [UInt8] {
            guard var line = try reader.readLine(limit: 1024) else {
                // A final line without a newline (only the end line may lack one).
                let rest = try reader.read(upTo: 1025)
                guard rest.count <= 1024, !rest.isEmpty else { throw AgeError.armorFailure("the armor ends early") }
                return rest.last == 0x0D ? Array(rest.dropLast()) : rest
            }
            if line.last == 0x0D { line.removeLast() }
            return line
        }

        mutating func read(upTo count: Int) throws -> [UInt8] {
            if !started {
                // Skip whitespace before the armor.
                while let first = try reader.peek(1).first, isWhitespace(first) { _ = try reader.read(upTo: 1) }
                guard try line() == Array(begin.utf8) else { throw AgeError.armorFailure("no armor header") }
                started = true
            }
            while pending.count < count && !finished {
                let line = try line()
                if line == Array(end.utf8) {
                    finished = true
                    // Only whitespace may follow the armor.
                    while !(try reader.atEnd()) {
                        let rest = try reader.read(upTo: 4096)
                        guard rest.allSatisfy(isWhitespace) else { throw AgeError.armorFailure("data after the armor") }
                    }
                    break
                }
                guard !sawShortLine else { throw AgeError.armorFailure("a short line before the end") }
                guard !line.isEmpty, line.count <= 64, line.count % 4 == 0 else {
                    throw AgeError.armorFailure("malformed armor line")
                }
                if line.count < 64 { sawShortLine = true }
                let text = String(decoding: line, as: UTF8.self)
                guard let data = Data(base64Encoded: text), data.base64EncodedString() == text else {
                    throw AgeError.armorFailure("armor line is not canonical base64")
                }
                // Padding may only end the last line.
                if text.hasSuffix("=") { sawShortLine = true }
                pending += data
            }
            let out = Array(pending.prefix(count))
            pending.removeFirst(out.count)
            return out
        }
    }

    /// Turns bytes into armor text: 48 bytes per 64-column line.
    struct Encoder {
        var buffer: [UInt8] = []
        var started = false

        /// The armor text for `bytes` that can be written now.
        mutating func encode(_ bytes: [UInt8]) -> [UInt8] {
            var text = started ? "" : begin + "\n"
            started = true
            buffer += bytes
            let whole = buffer.count / 48 * 48
            for offset in stride(from: 0, to: whole, by: 48) {
                text += Data(buffer[offset..<(offset + 48)]).base64EncodedString() + "\n"
            }
            buffer.removeFirst(whole)
            return Array(text.utf8)
        }

        /// The rest of the armor, with the end line.
        mutating func finish() -> [UInt8] {
            var text = Array(encode([]))
            if !buffer.isEmpty { text += Array((Data(buffer).base64EncodedString() + "\n").utf8) }
            buffer = []
            return text + Array((end + "\n").utf8)
        }
    }
}

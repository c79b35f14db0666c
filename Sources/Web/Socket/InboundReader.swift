/// Reads the common client frames without Foundation.
///
/// A `send` arrives for every message, and `JSONDecoder` is the largest single cost of taking one
/// in (its generic machinery, a `Data` copy, a map of the whole object). Client frames are flat
/// objects of a few known keys, so this reader takes exactly that shape: the keys of
/// ``RelayFrames/Inbound``, each at most once, whose values are strings without escapes,
/// integers without fraction or exponent, `true` or `false`, or arrays of such strings. Anything else — escapes,
/// `null`, unknown keys, nesting, bad JSON — returns nil, and the frame goes through
/// `JSONDecoder`, which decides it and words its errors.
struct InboundReader {
    private let bytes: UnsafeBufferPointer<UInt8>
    private var index = 0

    private init(_ bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
    }

    /// The frame, when it has the plain shape described above; nil to fall back to `JSONDecoder`.
    static func read(_ text: String) -> RelayFrames.Inbound? {
        var text = text
        return text.withUTF8 { bytes in
            var reader = InboundReader(bytes)
            return reader.object()
        }
    }

    private mutating func object() -> RelayFrames.Inbound? {
        var type: String?
        var id: String?
        var room: Int64?
        var body: String?
        var attachments: [String]?
        var after: Int64?
        var seq: Int64?
        var replyTo: Int64?
        var emoji: String?
        var on: Bool?
        guard take(UInt8(ascii: "{")) else { return nil }
        if take(UInt8(ascii: "}")) { return nil }
        repeat {
            guard let key = string(), take(UInt8(ascii: ":")) else { return nil }
            // Each key at most once, and its value of the plain kind, or the frame is handed over.
            switch key {
            case "type" where type == nil:
                guard let value = string() else { return nil }
                type = value
            case "id" where id == nil:
                guard let value = string() else { return nil }
                id = value
            case "room" where room == nil:
                guard let value = integer() else { return nil }
                room = value
            case "body" where body == nil:
                guard let value = string() else { return nil }
                body = value
            case "attachments" where attachments == nil:
                guard let value = stringArray() else { return nil }
                attachments = value
            case "after" where after == nil:
                guard let value = integer() else { return nil }
                after = value
            case "seq" where seq == nil:
                guard let value = integer() else { return nil }
                seq = value
            case "replyTo" where replyTo == nil:
                guard let value = integer() else { return nil }
                replyTo = value
            case "emoji" where emoji == nil:
                guard let value = string() else { return nil }
                emoji = value
            case "on" where on == nil:
                guard let value = boolean() else { return nil }
                on = value
            default: return nil
            }
        } while take(UInt8(ascii: ","))
        guard take(UInt8(ascii: "}")), index == bytes.count, let type else { return nil }
        return RelayFrames.Inbound(
            type: type, id: id, room: room, body: body, attachments: attachments, after: after, seq: seq,
            replyTo: replyTo, emoji: emoji, on: on)
    }

    /// Skips white space, then consumes `byte` if it is next.
    private mutating func take(_ byte: UInt8) -> Bool {
        skipSpace()
        guard index < bytes.count, bytes[index] == byte else { return false }
        index += 1
        skipSpace()
        return true
    }

    private mutating func skipSpace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return
            }
        }
    }

    /// A string without escapes or control characters.
    private mutating func string() -> String? {
        guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { return nil }
        let start = index + 1
        var end = start
        while end < bytes.count {
            let byte = bytes[end]
            if byte == UInt8(ascii: "\"") { break }
            guard byte >= 0x20, byte != UInt8(ascii: "\\") else { return nil }
            end += 1
        }
        guard end < bytes.count else { return nil }
        index = end + 1
        skipSpace()
        return String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<end]), as: UTF8.self)
    }

    /// An integer as JSON writes it (`-`, then `0` or digits without a leading zero) that fits Int64.
    private mutating func integer() -> Int64? {
        var position = index
        let negative = position < bytes.count && bytes[position] == UInt8(ascii: "-")
        if negative { position += 1 }
        let first = position
        var value: Int64 = 0
        while position < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[position]) {
            let digit = Int64(bytes[position] - UInt8(ascii: "0"))
            let (times, overflowTimes) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflowSum) =
                negative ? times.subtractingReportingOverflow(digit) : times.addingReportingOverflow(digit)
            guard !overflowTimes, !overflowSum else { return nil }
            value = sum
            position += 1
        }
        let digits = position - first
        guard digits > 0, digits == 1 || bytes[first] != UInt8(ascii: "0") else { return nil }
        // A fraction or an exponent: JSONDecoder's business.
        if position < bytes.count {
            switch bytes[position] {
            case UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E"): return nil
            default: break
            }
        }
        index = position
        skipSpace()
        return value
    }

    /// `true` or `false`.
    private mutating func boolean() -> Bool? {
        for (literal, value) in [("true", true), ("false", false)] {
            let bytes = Array(literal.utf8)
            guard index + bytes.count <= self.bytes.count,
                zip(bytes, self.bytes[index..<index + bytes.count]).allSatisfy({ $0 == $1 })
            else { continue }
            index += bytes.count
            skipSpace()
            return value
        }
        return nil
    }

    private mutating func stringArray() -> [String]? {
        guard take(UInt8(ascii: "[")) else { return nil }
        var values: [String] = []
        if !take(UInt8(ascii: "]")) {
            repeat {
                guard let value = string() else { return nil }
                values.append(value)
            } while take(UInt8(ascii: ","))
            guard take(UInt8(ascii: "]")) else {
                return nil
            }
        }
        return values
    }
}

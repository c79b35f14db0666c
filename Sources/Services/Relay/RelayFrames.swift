import Foundation
import Storage

/// The JSON frames of the WebSocket protocol (SPEC §4, docs/PROTOCOL.md).
enum RelayFrames {
    /// A frame from a client: every field optional here, checked per `type` by ``RelaySession``.
    struct Inbound: Decodable, Equatable {
        let type: String
        let id: String?
        let room: Int64?
        let body: String?
        let attachments: [String]?
        let after: Int64?
        let seq: Int64?
    }

    struct ErrorFrame: Encodable {
        var type = "error"
        let id: String?
        let code: String
        let message: String
    }

    struct Synced: Encodable {
        var type = "synced"
        let seq: Int64
    }

    struct Typing: Encodable {
        var type = "typing"
        let room: Int64
        let user: String
    }

    struct Presence: Encodable {
        var type = "presence"
        let user: String
        let online: Bool
    }

    /// One encoder per thread would be faster still; a fresh one is cheap enough and Sendable-safe.
    static func encode(_ value: some Encodable) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(value) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }

    // The frames on the message path are written by hand: one per message and recipient, they
    // dominate the relay's CPU time, and Foundation's JSONEncoder costs several times more.
    // Their keys are in the same sorted order JSONEncoder produces for the other frames.

    static func message(_ message: Message) -> String {
        var out = "{\"attachments\":"
        out += message.attachments.isEmpty ? "[]" : encodeArray(message.attachments)
        out += ",\"body\":"
        appendString(message.body, to: &out)
        out += ",\"from\":{\"id\":"
        out += message.senderID.map(String.init) ?? "null"
        out += ",\"username\":"
        if let name = message.senderName { appendString(name, to: &out) } else { out += "null" }
        out += "},\"id\":\(message.id),\"room\":\(message.roomID),\"seq\":\(message.seq),\"ts\":\(message.createdAt)"
        out += ",\"type\":\"message\"}"
        return out
    }

    static func encodeArray(_ values: [AttachmentInfo]) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(values) else { return "[]" }
        return String(decoding: data, as: UTF8.self)
    }

    /// The ack of a committed send. `body` is the stored text when rules masked part of it;
    /// `held` says a moderator must approve the message before anyone else sees it.
    static func ack(id: String, seq: Int64, ts: Int64, body: String? = nil, held: Bool = false) -> String {
        var out = "{"
        if let body {
            out += "\"body\":"
            appendString(body, to: &out)
            out += ","
        }
        if held { out += "\"held\":true," }
        out += "\"id\":"
        appendString(id, to: &out)
        out += ",\"seq\":\(seq),\"ts\":\(ts),\"type\":\"ack\"}"
        return out
    }

    /// A moderator deleted the message at `seq`: clients drop it.
    static func deleted(room: Int64, seq: Int64) -> String {
        "{\"room\":\(room),\"seq\":\(seq),\"type\":\"deleted\"}"
    }

    static func receipt(room: Int64, user: String, seq: Int64, kind: String) -> String {
        var out = "{\"kind\":\"\(kind)\",\"room\":\(room),\"seq\":\(seq),\"type\":\"receipt\",\"user\":"
        appendString(user, to: &out)
        out += "}"
        return out
    }

    /// Appends `text` as a JSON string literal: quotes, backslashes and control characters escaped.
    static func appendString(_ text: String, to out: inout String) {
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

    static func error(_ error: ServiceError, id: String? = nil) -> String {
        encode(ErrorFrame(id: id, code: error.code, message: error.message))
    }

    static func error(code: String, message: String, id: String? = nil) -> String {
        encode(ErrorFrame(id: id, code: code, message: message))
    }
}

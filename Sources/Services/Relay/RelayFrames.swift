import Foundation
import Storage

/// The JSON frames of the WebSocket protocol (SPEC §4, docs/PROTOCOL.md).
enum RelayFrames {
    /// A frame from a client: every field optional here, checked per `type` by ``RelaySession``.
    struct Inbound: Decodable {
        let type: String
        let id: String?
        let room: Int64?
        let body: String?
        let attachments: [Int64]?
        let after: Int64?
        let seq: Int64?
    }

    struct Sender: Encodable {
        let id: Int64?
        let username: String?
    }

    struct MessageFrame: Encodable {
        var type = "message"
        let seq: Int64
        let id: Int64
        let room: Int64
        let from: Sender
        let body: String
        let ts: Int64
        let attachments: [Int64] = []
    }

    struct Ack: Encodable {
        var type = "ack"
        let id: String
        let seq: Int64
        let ts: Int64
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

    struct Receipt: Encodable {
        var type = "receipt"
        let room: Int64
        let user: String
        let seq: Int64
        let kind: String
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

    static func message(_ message: Message) -> String {
        encode(
            MessageFrame(
                seq: message.seq, id: message.id, room: message.roomID,
                from: Sender(id: message.senderID, username: message.senderName), body: message.body,
                ts: message.createdAt))
    }

    static func error(_ error: ServiceError, id: String? = nil) -> String {
        encode(ErrorFrame(id: id, code: error.code, message: error.message))
    }

    static func error(code: String, message: String, id: String? = nil) -> String {
        encode(ErrorFrame(id: id, code: code, message: message))
    }
}

import Foundation
import Services
import Storage

/// A message as clients see it — the WebSocket's `message` frame and every message in the HTTP
/// API alike. This is the one writer of its JSON.
///
/// It is written by hand: one per message and recipient, it dominates the relay's CPU time, and
/// Foundation's `JSONEncoder` costs several times more. Its keys are in the sorted order
/// `JSONEncoder` gives the other frames.
enum MessageJSON {
    ///
    /// `replyTo`, `reactions`, `mentions`, `editedAt`, `deleted` and `system` appear only when the
    /// message has them.
    static func object(_ message: Message) -> String {
        var out = "{\"attachments\":"
        out += message.attachments.isEmpty ? "[]" : JSONText.encode(message.attachments)
        out += ",\"body\":"
        JSONText.appendString(message.body, to: &out)
        if message.deletedAt != nil { out += ",\"deleted\":true" }
        if let editedAt = message.editedAt { out += ",\"editedAt\":\(editedAt)" }
        out += ",\"from\":{\"id\":"
        out += message.senderID.map(String.init) ?? "null"
        out += ",\"username\":"
        if let name = message.senderName { JSONText.appendString(name, to: &out) } else { out += "null" }
        out += "},\"id\":\(message.id)"
        if !message.mentions.isEmpty { out += ",\"mentions\":" + JSONText.encode(message.mentions) }
        if !message.reactions.isEmpty { out += ",\"reactions\":" + JSONText.encode(message.reactions) }
        if let reply = message.replyTo {
            out += ",\"replyTo\":{\"excerpt\":"
            JSONText.appendString(reply.excerpt, to: &out)
            out += ",\"from\":"
            if let from = reply.from { JSONText.appendString(from, to: &out) } else { out += "null" }
            out += ",\"seq\":\(reply.seq)}"
        }
        out += ",\"room\":\(message.roomID),\"seq\":\(message.seq)"
        if message.system { out += ",\"system\":true" }
        out += ",\"ts\":\(message.createdAt),\"type\":\"message\"}"
        return out
    }

    /// `{"messages":[…]}`: a page of history.
    static func page(_ messages: [Message]) -> String {
        var out = "{\"messages\":["
        for (index, message) in messages.enumerated() {
            if index > 0 { out += "," }
            out += object(message)
        }
        out += "]}"
        return out
    }

    /// The same object inside a Foundation `Encodable` (a room's last message, a queue item).
    struct Embedded: Encodable {
        let message: Message

        init(_ message: Message) {
            self.message = message
        }

        func encode(to encoder: any Encoder) throws {
            try JSONValue(parsing: MessageJSON.object(message)).encode(to: encoder)
        }
    }
}

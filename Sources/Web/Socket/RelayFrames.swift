import Foundation
import Services
import Storage

/// The JSON frames of the WebSocket protocol (docs/PROTOCOL.md); a message's own is ``MessageJSON``.
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
        var replyTo: Int64? = nil
        var emoji: String? = nil
        var on: Bool? = nil
        /// A call's id, what a `call` frame does, and whether it is a video call.
        var call: String? = nil
        var action: String? = nil
        var video: Bool? = nil
        /// An `rtc` frame's device, and what it carries (passed on as sent).
        var to: Int64? = nil
        var sdp: JSONValue? = nil
        var candidate: JSONValue? = nil
    }

    struct ErrorFrame: Encodable {
        var type = "error"
        let id: String?
        let code: String
        let message: String
        /// For `muted`: when the mute ends (ms), for the client to say in the reader's own time.
        var until: Int64? = nil
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

    struct LinkRequested: Encodable {
        var type = "link_request"
        let code: String
        let deviceName: String
        /// The browser and system in words ("Safari on iPhone"), from the user agent.
        let device: String
        let userAgent: String
        let ip: String
    }

    /// A room as it is now: created, renamed, or its members changed.
    struct RoomChanged: Encodable {
        var type = "room"
        let room: RoomJSON
    }

    /// A member's own settings for a chat, to all their devices.
    struct SettingsChanged: Encodable {
        var type = "settings"
        let room: Int64
        let settings: ChatSettingsJSON
    }

    struct ProfileChanged: Encodable {
        var type = "profile"
        let user: ProfileJSON
    }

    /// A device in a call, as `call` frames name it.
    struct CallDevice: Encodable {
        let user: String
        let device: Int64
    }

    /// What happened to a call (docs/PROTOCOL.md, *Calls*).
    struct CallFrame: Encodable {
        var type = "call"
        let call: String
        let room: Int64
        let action: String
        let video: Bool
        let from: String?
        let fromDevice: Int64?
        let participants: [CallDevice]?
        let reason: String?

        init(_ event: CallEvent) {
            call = event.callID
            room = event.roomID
            action = event.action.rawValue
            video = event.video
            from = event.from?.username
            fromDevice = event.from?.deviceID
            participants =
                event.action == .joined
                ? event.participants.map { CallDevice(user: $0.username, device: $0.deviceID) } : nil
            reason = event.reason
        }
    }

    /// The answer to a ring: the call rings on `devices` devices.
    struct Ringing: Encodable {
        var type = "call"
        let id: String?
        let call: String
        let room: Int64
        var action = "ringing"
        let devices: Int
    }

    /// WebRTC signalling from one device of a call to another, passed on as sent.
    struct RTCFrame: Encodable {
        var type = "rtc"
        let call: String
        let from: String
        let fromDevice: Int64
        let sdp: JSONValue?
        let candidate: JSONValue?
    }

    static func encode(_ value: some Encodable) -> String { JSONText.encode(value) }

    // The frames on the message path (acks, receipts) are written by hand, as ``MessageJSON`` is.

    /// The answer to a send: its ack, or the error that refused it.
    static func answer(_ answer: SendAnswer) -> String {
        switch answer.outcome {
        case .stored(let seq, let ts, let body, let held, let messageID):
            ack(id: answer.clientID, seq: seq, ts: ts, body: body, held: held, messageID: messageID)
        case .refused(let error): self.error(error, id: answer.clientID)
        }
    }

    /// The ack of a committed send. `body` is the stored text when rules masked part of it;
    /// `held` says a moderator must approve the message before anyone else sees it; `messageID`
    /// is the stored message's id (its `message` frames' `id`), for a send.
    static func ack(
        id: String, seq: Int64, ts: Int64, body: String? = nil, held: Bool = false, messageID: Int64? = nil
    ) -> String {
        var out = "{"
        if let body {
            out += "\"body\":"
            JSONText.appendString(body, to: &out)
            out += ","
        }
        if held { out += "\"held\":true," }
        out += "\"id\":"
        JSONText.appendString(id, to: &out)
        if let messageID { out += ",\"messageId\":\(messageID)" }
        out += ",\"seq\":\(seq),\"ts\":\(ts),\"type\":\"ack\"}"
        return out
    }

    /// The message at `seq` was deleted for everyone (`eventSeq` its place in the sequence; none
    /// for a held message a moderator deleted from the queue): clients show "message deleted".
    static func deleted(room: Int64, seq: Int64, eventSeq: Int64? = nil) -> String {
        let event = eventSeq.map { "\"eventSeq\":\($0)," } ?? ""
        return "{\(event)\"room\":\(room),\"seq\":\(seq),\"type\":\"deleted\"}"
    }

    /// A change to a message, as its room's members receive it live or in a sync.
    static func event(_ event: MessageEvent) -> String {
        switch event.kind {
        case .reaction:
            var out = "{\"emoji\":"
            JSONText.appendString(event.emoji ?? "", to: &out)
            out +=
                ",\"eventSeq\":\(event.seq),\"on\":\(event.added),\"room\":\(event.roomID),\"seq\":\(event.messageSeq)"
            out += ",\"type\":\"reaction\",\"user\":"
            if let user = event.username { JSONText.appendString(user, to: &out) } else { out += "null" }
            return out + "}"
        case .edit:
            var out = "{\"body\":"
            JSONText.appendString(event.body ?? "", to: &out)
            out += ",\"editedAt\":\(event.createdAt),\"eventSeq\":\(event.seq),\"room\":\(event.roomID)"
            return out + ",\"seq\":\(event.messageSeq),\"type\":\"edited\"}"
        case .delete:
            return deleted(room: event.roomID, seq: event.messageSeq, eventSeq: event.seq)
        }
    }

    static func receipt(room: Int64, user: String, seq: Int64, kind: String) -> String {
        var out = "{\"kind\":\"\(kind)\",\"room\":\(room),\"seq\":\(seq),\"type\":\"receipt\",\"user\":"
        JSONText.appendString(user, to: &out)
        out += "}"
        return out
    }

    static func error(_ error: ServiceError, id: String? = nil) -> String {
        var frame = ErrorFrame(id: id, code: error.code, message: error.message)
        if case .muted(let until) = error { frame.until = until }
        return encode(frame)
    }

    static func error(code: String, message: String, id: String? = nil) -> String {
        encode(ErrorFrame(id: id, code: code, message: message))
    }
}

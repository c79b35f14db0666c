import Foundation
import Storage

/// What one push says (docs/PROTOCOL.md, "Push notifications"): the JSON the service worker reads,
/// composed when the push goes, from the message as it is then and the user's choices.
///
/// ```json
/// {"kind":"message","room":12,"seq":1043,"title":"dad in Family","body":"Dinner at 7?",
///  "tag":"room-12","url":"/#room=12","silent":false,"unread":{"12":3,"15":1},"badge":4,
///  "icon":"/api/v1/avatars/x3v…"}
/// ```
struct PushPayload: Encodable {
    var kind: String
    var room: Int64?
    var seq: Int64?
    var title: String
    var body: String
    /// One notification per room: a later one replaces it.
    var tag: String
    var url: String
    /// Quiet hours in `silent` mode: shown without sound or vibration.
    var silent: Bool
    /// Unread messages per room: the service worker closes the notifications of rooms read elsewhere.
    var unread: [String: Int]
    /// All unread messages, for the app badge.
    var badge: Int
    /// The sender's avatar, when the notification may name them and they have one.
    var icon: String?

    typealias Preview = HearthConfiguration.PushSettings.Preview

    /// What the payloads of one user's pushes share: their choices and their unread counts, read
    /// once per batch of pushes.
    struct Reader {
        let preferences: PushPreferences
        let unread: [Int64: Int]

        init(userID: Int64, store: Store) throws {
            preferences = try store.pushPreferences(userID: userID)
            unread = try store.unreadCounts(userID: userID)
        }
    }

    /// The payload of `push` for its subscription's user, or nil when it should not go: the
    /// message is gone or already read, or quiet hours say "off".
    static func compose(
        _ push: QueuedPush, for reader: Reader, store: Store, serverPreview: Preview, now: Date
    ) throws -> PushPayload? {
        let preferences = reader.preferences
        let unread = reader.unread
        let preview = max(serverPreview, preferences.preview.flatMap(Preview.init(rawValue:)) ?? .full)
        let quiet = Self.isQuiet(preferences, at: now)
        if quiet, preferences.quietMode == "off" { return nil }
        var payload = PushPayload(
            kind: push.kind.rawValue, room: push.roomID, seq: push.seq, title: "Hearth", body: "New message",
            tag: push.topic, url: push.roomID.map { "/#room=\($0)" } ?? "/", silent: quiet,
            unread: Dictionary(uniqueKeysWithValues: unread.map { (String($0.key), $0.value) }),
            badge: unread.values.reduce(0, +))
        if push.kind == .link {
            payload.title = "A new device wants to sign in"
            payload.body = "Open Hearth on this device to approve or deny it."
            return payload
        }
        if push.kind == .call { return try ring(push, payload: payload, preview: preview, store: store) }
        guard let roomID = push.roomID, let seq = push.seq,
            let message = try store.pushPreview(roomID: roomID, seq: seq, actorID: push.actorID), !message.deleted
        else { return nil }
        let roomName = message.group ? (message.roomName ?? "Group") : nil
        if push.kind != .reaction {
            // Read on another device since it was queued: nothing to say.
            guard unread[roomID] != nil else { return nil }
        }
        guard preview != .none else { return payload }
        let actor = message.actor ?? "Someone"
        payload.icon = message.actorAvatar.map { "/api/v1/avatars/\($0)" }
        let excerpt = message.body.isEmpty ? Self.fileWords(message.contentTypes) : message.body
        switch push.kind {
        case .reaction:
            payload.title = "\(actor) reacted \(push.emoji ?? "")" + (roomName.map { " in \($0)" } ?? "")
            payload.body = preview == .full ? "to “\(Self.clipped(excerpt, 120))”" : "to your message"
        default:
            payload.title = roomName.map { "\(actor) in \($0)" } ?? actor
            payload.body =
                preview == .full
                ? Self.clipped(excerpt, 1000) : (push.kind == .mention ? "Mentioned you" : "New message")
        }
        return payload
    }

    /// A ring: "Mum is calling" / "Video call · Family" (or only "Incoming call" when the preview
    /// may not name people), high urgency, while the ring lasts.
    static func ring(_ push: QueuedPush, payload: PushPayload, preview: Preview, store: Store) throws -> PushPayload {
        var payload = payload
        let kind = push.emoji == "📹" ? "Video call" : "Voice call"
        payload.title = "Incoming call"
        payload.body = kind
        guard preview != .none, let actorID = push.actorID, let caller = try store.user(id: actorID) else {
            return payload
        }
        let room = try push.roomID.flatMap { try store.room(id: $0) }
        payload.title = "\(caller.displayName ?? caller.username) is calling"
        payload.body = kind + (room?.kind == .group ? " · \(room?.name ?? "Group")" : "")
        payload.icon = caller.avatar.map { "/api/v1/avatars/\($0)" }
        return payload
    }

    /// Whether `now` falls in the user's quiet hours (in their time zone, else the server's).
    static func isQuiet(_ preferences: PushPreferences, at now: Date) -> Bool {
        guard let from = preferences.quietFrom, let to = preferences.quietTo, from != to else { return false }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = preferences.timeZone.flatMap(TimeZone.init(identifier:)) ?? .current
        let parts = calendar.dateComponents([.hour, .minute], from: now)
        let minute = (parts.hour ?? 0) * 60 + (parts.minute ?? 0)
        // 22:00–07:00 wraps past midnight.
        return from < to ? (from <= minute && minute < to) : (minute >= from || minute < to)
    }

    static func fileWords(_ types: [String]) -> String {
        if types.contains(where: { $0.hasPrefix("image/") }) { return "📷 Photo" }
        if types.contains(where: { $0.hasPrefix("audio/") }) { return "🎤 Voice message" }
        if types.contains(where: { $0.hasPrefix("video/") }) { return "🎬 Video" }
        return types.isEmpty ? "Message" : "📎 File"
    }

    static func clipped(_ text: String, _ characters: Int) -> String {
        text.count <= characters ? text : String(text.prefix(characters - 1)) + "…"
    }

    /// The JSON, shortened to what one push carries (the text is cut, never the JSON).
    func encoded(limit: Int) throws -> Data {
        var payload = self
        var data = payload.json()
        while data.count > limit, payload.body.count > 1 {
            payload.body = Self.clipped(payload.body, max(1, payload.body.count - (data.count - limit) - 1))
            data = payload.json()
        }
        if data.count > limit {
            payload.unread = [:]
            data = payload.json()
        }
        return data
    }

    /// The JSON with its keys sorted, as `JSONEncoder` with `.sortedKeys` writes it, but by hand:
    /// one is written for every push, and Foundation's encoder cost more than composing it.
    func json() -> Data {
        var out = "{\"badge\":\(badge),\"body\":"
        JSONText.appendString(body, to: &out)
        if let icon {
            out += ",\"icon\":"
            JSONText.appendString(icon, to: &out)
        }
        out += ",\"kind\":"
        JSONText.appendString(kind, to: &out)
        if let room { out += ",\"room\":\(room)" }
        if let seq { out += ",\"seq\":\(seq)" }
        out += ",\"silent\":\(silent),\"tag\":"
        JSONText.appendString(tag, to: &out)
        out += ",\"title\":"
        JSONText.appendString(title, to: &out)
        out += ",\"unread\":{"
        for (index, (room, count)) in unread.sorted(by: { $0.key < $1.key }).enumerated() {
            if index > 0 { out += "," }
            JSONText.appendString(room, to: &out)
            out += ":\(count)"
        }
        out += "},\"url\":"
        JSONText.appendString(url, to: &out)
        out += "}"
        return Data(out.utf8)
    }
}

import Foundation
import Storage

/// An audit entry as the panel writes it: one sentence with names and links ("mum disabled kid:
/// lost phone", "gran deleted kid's message in Family"), never ids or action codes.
///
/// The log stores `target` as short text ("message 9 by dad in room 2", "rule 3", a username);
/// this reads those shapes back, so entries written by older versions read as sentences too.
struct AuditSentence {
    /// A run of text, a link when `href` is set.
    struct Part {
        var text: String
        var href: String?

        var fields: [String: String] { href.map { ["text": text, "href": $0] } ?? ["text": text] }
    }

    private(set) var parts: [Part] = []

    /// The room ids an entry's target names, to look up their titles before writing it.
    static func roomIDs(in entry: AuditEntry) -> [Int64] {
        guard let target = entry.target else { return [] }
        if let message = MessageTarget(target) { return [message.roomID] }
        if let room = roomID(target) { return [room] }
        return []
    }

    /// The id in a target of the form "room 12".
    static func roomID(_ target: String) -> Int64? {
        target.hasPrefix("room ") ? Int64(target.dropFirst(5)) : nil
    }

    /// A room named by its title where known ("Family"), else "a room".
    static func room(_ target: String, rooms: [Int64: String]) -> Part {
        guard let id = roomID(target) else { return Part(text: target) }
        return Part(text: rooms[id] ?? "a room", href: "/admin/rooms")
    }

    init(_ entry: AuditEntry, rooms: [Int64: String]) {
        let actor = Self.actor(entry.actor)
        let target = entry.target ?? ""
        let detail = entry.detail.flatMap { $0.isEmpty ? nil : $0 }
        let what = self.subject(target, rooms: rooms)
        switch entry.action {
        case "user_created" where entry.actor == target:
            add(Self.person(target), " joined", detail.map { " (\($0))" })
        case "user_created": add(actor, " created the account ", Self.person(target), detail.map { " (\($0))" })
        case "user_disabled": add(actor, " disabled ", Self.person(target), detail.map { ": \($0)" })
        case "user_enabled": add(actor, " enabled ", Self.person(target), " again")
        case "user_deleted": add(actor, " deleted the account of ", Part(text: target))
        case "role_changed": add(actor, " changed the role of ", Self.person(target), detail.map { " to \($0)" })
        case "user_muted": add(actor, " muted ", Self.person(target), detail.map { " " + Self.readableTimes($0) })
        case "user_unmuted": add(actor, " ended the mute of ", Self.person(target))
        case "password_reset_link_created": add(actor, " made a password reset link for ", Self.person(target))
        case "password_changed": add(Self.person(target), " changed their password", detail.map { "; \($0)" })
        case "password_reset_link_used": add(Self.person(target), " chose a new password with a reset link")
        case "recovery_link_created": add(actor, " made a sign-in link for a new device of ", Self.person(target))
        case "recovery_link_used": add(actor, " signed in a new device, “\(target)”, with a sign-in link")
        case "device_revoked": add(actor, " signed out ", Self.person(target), detail.map { "’s device \($0)" })
        case "device_link_approved": add(actor, " let the device “\(target)” sign in by its QR code")
        case "device_link_denied": add(actor, " refused the device “\(target)” that asked to sign in")
        case "invite_created":
            add(actor, " made ", Part(text: "an invite", href: "/admin/invites"), detail.map { " (\($0))" })
        case "invite_revoked": add(actor, " revoked ", Part(text: "an invite", href: "/admin/invites"))
        case "rule_created": add(actor, " added ", what, detail.map { ": \($0)" })
        case "rule_updated": add(actor, " changed ", what, detail.map { ": \($0)" })
        case "rule_deleted": add(actor, " deleted a rule", detail.map { " (\($0))" })
        case "rule_disabled": add(actor, " turned off ", what, detail.map { ": \($0)" })
        case "rule_hit": add("A rule caught ", what, detail.map { ": \($0)" })
        case "message_reported": add(actor, " reported ", what, detail.map { ": “\($0)”" })
        case "message_approved": add(actor, " approved ", what, detail.map { ": \($0)" })
        case "message_dismissed": add(actor, " looked at ", what, " and left it", detail.map { ": \($0)" })
        case "message_deleted": add(actor, " deleted ", what, detail.map { ": \($0)" })
        case "message_edited":
            add(actor, " edited ", what, detail.map { " (it \($0.replacingOccurrences(of: "was: ", with: "said: ")))" })
        case "setting_changed": add(actor, " set \(target) to ", Part(text: detail ?? "—"))
        case "backup_created":
            add(
                actor, " made ", Part(text: "a backup", href: "/admin/backups"), " to \(target)",
                detail.map { " (\($0))" })
        case "backup_failed":
            add(actor, "’s ", Part(text: "backup", href: "/admin/backups"), " to \(target) failed: ", detail)
        case "backup_restored": add(actor, " restored this server from the backup \(target)", detail.map { " (\($0))" })
        case "backup_key_added": add(actor, " added a backup key \(target)")
        case "push_keys_rotated": add(actor, " made new notification keys", detail.map { " (\($0))" })
        case "webhook_created": add(actor, " added the webhook “\(detail ?? "")” to ", Self.room(target, rooms: rooms))
        case "webhook_revoked":
            add(actor, " revoked the webhook “\(detail ?? "")” of ", Self.room(target, rooms: rooms))
        case "outgoing_webhook_created":
            add(actor, " added the outgoing webhook “\(detail ?? "")” to ", Self.room(target, rooms: rooms))
        case "outgoing_webhook_revoked":
            add(actor, " removed the outgoing webhook “\(detail ?? "")” of ", Self.room(target, rooms: rooms))
        default:
            add(actor, " — \(entry.action.replacingOccurrences(of: "_", with: " ")) ", what, detail.map { ": \($0)" })
        }
    }

    private mutating func add(_ items: Any?...) {
        for item in items {
            switch item {
            case let part as Part: parts.append(part)
            case let text as String: parts.append(Part(text: text))
            default: continue
            }
        }
    }

    /// Who did it: a person (linked), the command line, or the server.
    private static func actor(_ name: String) -> Part {
        switch name {
        case "cli": Part(text: "Someone at the server’s command line")
        case "server": Part(text: "The server")
        default: person(name)
        }
    }

    private static func person(_ name: String) -> Part {
        Part(
            text: name,
            href: "/admin/users/\(name.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? name)")
    }

    /// What it was done to: "dad's message in Family", "rule 3" (linked), or the text as stored.
    private func subject(_ target: String, rooms: [Int64: String]) -> Part {
        if let message = MessageTarget(target) {
            let room = rooms[message.roomID] ?? "a room since deleted"
            let whose = message.sender.map { "\($0)’s" } ?? "a"
            return Part(
                text: "\(message.edit ? "an edit of " : "")\(whose) message in \(room)", href: "/admin/rooms")
        }
        if target.hasPrefix("rule "), let id = Int(target.dropFirst(5)) {
            return Part(text: "rule \(id)", href: "/admin/rules/\(id)")
        }
        return Part(text: target)
    }

    /// "until 2026-12-05T10:00:00Z; calm down" → "until 2026-12-05 11:00; calm down", in the
    /// server's time zone like every other time in the panel.
    private static func readableTimes(_ text: String) -> String {
        let parts = text.split(separator: ";", maxSplits: 1).map(String.init)
        guard let first = parts.first, first.hasPrefix("until "),
            let date = ISO8601DateFormatter().date(from: String(first.dropFirst(6)))
        else { return text }
        let until = "until " + AdminFormat.date(Int64(date.timeIntervalSince1970 * 1000))
        return parts.count > 1 ? until + ":" + parts[1] : until
    }
}

/// `message 9 by dad in room 2`, `edit of message 9 by dad in room 2`, or `dad in room 2` (a
/// message a rule refused, which was never stored): how the log names a message.
private struct MessageTarget {
    let edit: Bool
    let sender: String?
    let roomID: Int64

    init?(_ target: String) {
        var text = Substring(target)
        edit = text.hasPrefix("edit of ")
        if edit { text = text.dropFirst(8) }
        guard let inRoom = text.range(of: " in room ", options: .backwards),
            let roomID = Int64(text[inRoom.upperBound...])
        else { return nil }
        self.roomID = roomID
        let head = text[..<inRoom.lowerBound]
        if head.hasPrefix("message "), let by = head.range(of: " by ") {
            sender = String(head[by.upperBound...])
        } else if !head.contains(" ") {
            sender = String(head)
        } else {
            return nil
        }
    }
}

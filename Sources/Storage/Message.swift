import GRDB

/// A stored message.
public struct Message: Sendable, Equatable, Codable {
    public var id: Int64
    public var seq: Int64
    public var roomID: Int64
    public var senderID: Int64?
    /// The sender's username (nil once the account is deleted).
    public var senderName: String?
    public var body: String
    public var createdAt: Int64
    /// Stored but held for a moderator's review: delivered to nobody until approved.
    public var held = false
    /// A line the server wrote about a change to the room ("mum added sam"); the sender made it.
    public var system = false
    /// The files the message shares.
    public var attachments: [AttachmentInfo] = []
    /// The message this one replies to, as it stands now.
    public var replyTo: Reply?
    /// When the text was last edited; nil if never.
    public var editedAt: Int64?
    /// When the message was deleted for everyone (its text is then empty); nil while it stands.
    public var deletedAt: Int64?
    /// Who reacted with what: usernames by emoji, each list in the order the reactions came.
    public var reactions: [String: [String]] = [:]
    /// The room members the text mentions by `@name`, as it was sent.
    public var mentions: [String] = []

    /// A quoted message: its seq, its sender, and the start of its current text (empty once deleted).
    public struct Reply: Sendable, Equatable, Codable {
        public var seq: Int64
        public var from: String?
        public var excerpt: String

        public init(seq: Int64, from: String?, excerpt: String) {
            self.seq = seq
            self.from = from
            self.excerpt = excerpt
        }
    }

    /// Creates a message value.
    public init(
        id: Int64, seq: Int64, roomID: Int64, senderID: Int64?, senderName: String?, body: String, createdAt: Int64
    ) {
        self.id = id
        self.seq = seq
        self.roomID = roomID
        self.senderID = senderID
        self.senderName = senderName
        self.body = body
        self.createdAt = createdAt
    }
}

/// What a message says about a file it shares.
public struct AttachmentInfo: Sendable, Equatable, Codable {
    public var id: String
    public var contentType: String
    public var size: Int64
    public var name: String?
    public var width: Int?
    public var height: Int?
    /// How long a sound or video lasts, in milliseconds (voice notes carry it).
    public var durationMs: Int?

    /// The description of a stored attachment.
    public init(_ attachment: Attachment) {
        id = attachment.publicID
        contentType = attachment.contentType
        size = attachment.size
        name = attachment.filename
        width = attachment.width
        height = attachment.height
        durationMs = attachment.durationMs
    }
}

extension Message: FetchableRecord {
    public init(row: Row) throws {
        id = row["id"]
        seq = row["seq"]
        roomID = row["room_id"]
        senderID = row["sender_id"]
        senderName = row["username"]
        body = row["body"]
        createdAt = row["created_at"]
        held = row["held"] ?? false
        system = row["system"] ?? false
        if let seq: Int64 = row["reply_to"] {
            replyTo = Reply(seq: seq, from: row["reply_from"], excerpt: Self.excerpt(row["reply_body"] ?? ""))
        }
        editedAt = row["edited_at"]
        deletedAt = row["deleted_at"]
        if let names: String = row["mentions"] { mentions = names.split(separator: "\n").map(String.init) }
    }

    /// How much of a quoted message's text a reply carries, in characters.
    public static let excerptLength = 120

    /// The start of `text`, at most ``excerptLength`` characters, on one line.
    public static func excerpt(_ text: String) -> String {
        let line = text.split(whereSeparator: \.isNewline).joined(separator: " ")
        return line.count <= excerptLength ? line : String(line.prefix(excerptLength - 1)) + "…"
    }
}

/// A change to a message: its own place in the sequence, and what changed.
public struct MessageEvent: Sendable, Equatable {
    public enum Kind: String, Sendable {
        case reaction, edit, delete
    }

    /// The event's own seq.
    public var seq: Int64
    public var roomID: Int64
    /// The seq of the message it changes.
    public var messageSeq: Int64
    public var kind: Kind
    /// Who made the change (nil once the account is deleted).
    public var username: String?
    /// For reactions: the emoji, and whether it was added or taken back.
    public var emoji: String?
    public var added: Bool
    /// For edits: the new text (empty once the message is deleted).
    public var body: String?
    public var createdAt: Int64

    public init(
        seq: Int64, roomID: Int64, messageSeq: Int64, kind: Kind, username: String?, emoji: String? = nil,
        added: Bool = true, body: String? = nil, createdAt: Int64
    ) {
        self.seq = seq
        self.roomID = roomID
        self.messageSeq = messageSeq
        self.kind = kind
        self.username = username
        self.emoji = emoji
        self.added = added
        self.body = body
        self.createdAt = createdAt
    }
}

extension MessageEvent: FetchableRecord {
    public init(row: Row) throws {
        seq = row["seq"]
        roomID = row["room_id"]
        messageSeq = row["message_seq"]
        kind = Kind(rawValue: row["kind"]) ?? .edit
        username = row["username"]
        emoji = row["emoji"]
        added = row["added"] ?? true
        body = row["body"]
        createdAt = row["created_at"]
    }
}

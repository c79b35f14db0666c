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
    /// The files the message shares.
    public var attachments: [AttachmentInfo] = []

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

    /// The description of a stored attachment.
    public init(_ attachment: Attachment) {
        id = attachment.publicID
        contentType = attachment.contentType
        size = attachment.size
        name = attachment.filename
        width = attachment.width
        height = attachment.height
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
    }
}

import Foundation
import GRDB

/// A file shared in a room, stored in chunks in the database.
public struct Attachment: Sendable, Equatable {
    public var id: Int64
    public var publicID: String
    public var ownerID: Int64
    public var messageID: Int64?
    public var contentType: String
    public var filename: String?
    public var size: Int64
    public var sha256: Data?
    public var width: Int?
    public var height: Int?
    /// How long a sound or video lasts, in milliseconds, when its uploader said.
    public var durationMs: Int?
    public var complete: Bool
    public var createdAt: Int64
}

extension Attachment: FetchableRecord {
    public init(row: Row) throws {
        id = row["id"]
        publicID = row["public_id"]
        ownerID = row["owner_id"]
        messageID = row["message_id"]
        contentType = row["content_type"]
        filename = row["filename"]
        size = row["size"]
        sha256 = row["sha256"]
        width = row["width"]
        height = row["height"]
        durationMs = row["duration_ms"]
        complete = row["complete"]
        createdAt = row["created_at"]
    }
}

extension Store {
    /// Starts an upload: an incomplete attachment row whose `size` holds the bytes reserved for
    /// it against its owner's quota until it completes.
    public func insertAttachment(
        publicID: String, ownerID: Int64, contentType: String, filename: String?, reservedBytes: Int64, now: Int64
    ) throws -> Int64 {
        try db.execute(
            sql: """
                INSERT INTO attachments (public_id, owner_id, content_type, filename, size, created_at)
                VALUES (?, ?, ?, ?, ?, ?)
                """,
            arguments: [publicID, ownerID, contentType, filename, reservedBytes, now])
        return db.lastInsertedRowID
    }

    /// Changes the bytes an incomplete upload holds against its owner's quota.
    public func reserveAttachmentBytes(id: Int64, bytes: Int64) throws {
        try db.execute(sql: "UPDATE attachments SET size = ? WHERE id = ? AND complete = 0", arguments: [bytes, id])
    }

    /// Stores one chunk of an upload.
    public func insertAttachmentChunk(attachmentID: Int64, index: Int, data: Data) throws {
        try db.execute(
            sql: "INSERT INTO attachment_chunks (attachment_id, idx, data) VALUES (?, ?, ?)",
            arguments: [attachmentID, index, data])
    }

    /// Marks an upload complete with its type (as sniffed), size, hash and image dimensions.
    public func completeAttachment(
        id: Int64, contentType: String, size: Int64, sha256: Data, width: Int?, height: Int?, durationMs: Int? = nil
    ) throws {
        try db.execute(
            sql: """
                UPDATE attachments SET complete = 1, content_type = ?, size = ?, sha256 = ?, width = ?, height = ?,
                    duration_ms = ?
                WHERE id = ?
                """,
            arguments: [contentType, size, sha256, width, height, durationMs, id])
    }

    /// Deletes an attachment and its chunks.
    public func deleteAttachment(id: Int64) throws {
        try db.execute(sql: "DELETE FROM attachments WHERE id = ?", arguments: [id])
    }

    /// The attachment with this public id, if any.
    public func attachment(publicID: String) throws -> Attachment? {
        try Attachment.fetchOne(db, sql: "SELECT * FROM attachments WHERE public_id = ?", arguments: [publicID])
    }

    /// The attachments of a message, in upload order.
    public func attachments(messageID: Int64) throws -> [Attachment] {
        try Attachment.fetchAll(
            db, sql: "SELECT * FROM attachments WHERE message_id = ? ORDER BY id", arguments: [messageID])
    }

    /// Bytes of every complete attachment on the server.
    public func totalAttachmentBytes() throws -> Int64 {
        try Int64.fetchOne(db, sql: "SELECT coalesce(sum(size), 0) FROM attachments WHERE complete = 1") ?? 0
    }

    /// Whether the attachment is someone's avatar.
    public func isAvatar(publicID: String) throws -> Bool {
        try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM users WHERE avatar = ?)", arguments: [publicID])
            ?? false
    }

    /// Links an attachment to the message that shares it.
    public func attach(attachmentID: Int64, toMessage messageID: Int64) throws {
        try db.execute(sql: "UPDATE attachments SET message_id = ? WHERE id = ?", arguments: [messageID, attachmentID])
    }

    /// Bytes a user's attachments count against their quota: the size of each complete one and
    /// the bytes each upload under way has reserved.
    public func attachmentBytes(ownerID: Int64) throws -> Int64 {
        try Int64.fetchOne(
            db, sql: "SELECT coalesce(sum(size), 0) FROM attachments WHERE owner_id = ?", arguments: [ownerID]) ?? 0
    }

    /// How many attachment rows a user has, finished or not.
    public func attachmentCount(ownerID: Int64) throws -> Int {
        try Int.fetchOne(db, sql: "SELECT count(*) FROM attachments WHERE owner_id = ?", arguments: [ownerID]) ?? 0
    }

    /// One chunk's bytes.
    public func attachmentChunk(attachmentID: Int64, index: Int) throws -> Data? {
        try Data.fetchOne(
            db, sql: "SELECT data FROM attachment_chunks WHERE attachment_id = ? AND idx = ?",
            arguments: [attachmentID, index])
    }

    /// Deletes incomplete uploads older than `before`, and complete ones no message references.
    @discardableResult
    public func deleteOrphanAttachments(incompleteBefore: Int64, unreferencedBefore: Int64) throws -> Int {
        try db.execute(
            sql: """
                DELETE FROM attachments
                WHERE (complete = 0 AND created_at < ?)
                   OR (message_id IS NULL AND created_at < ?
                       AND NOT EXISTS (SELECT 1 FROM users WHERE avatar = attachments.public_id))
                """,
            arguments: [incompleteBefore, unreferencedBefore])
        return changes
    }

    /// Whether the user may read a message's attachments: they are in its room and the message is
    /// not held for review (or is their own); a moderator may also read those of a message in the
    /// review queue.
    public func canRead(attachment: Attachment, userID: Int64, moderator: Bool) throws -> Bool {
        guard let messageID = attachment.messageID else { return attachment.ownerID == userID }
        return try Bool.fetchOne(
            db,
            sql: """
                SELECT EXISTS (SELECT 1 FROM messages m JOIN room_members r ON r.room_id = m.room_id
                               WHERE m.id = ?1 AND r.user_id = ?2 AND (m.held = 0 OR m.sender_id = ?2))
                    OR (?3 AND EXISTS (SELECT 1 FROM review_items WHERE message_id = ?1))
                """,
            arguments: [messageID, userID, moderator]) ?? false
    }
}

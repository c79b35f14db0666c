import GRDB

/// Changes to messages — reactions, edits, deletions — each an event in the message sequence.
extension Store {
    /// The published message of a room at `seq` (deleted ones included), if any.
    public func message(roomID: Int64, seq: Int64) throws -> Message? {
        try completed(
            Message.fetchAll(
                db,
                sql: """
                    SELECT \(Self.messageColumns) FROM \(Self.messageSource)
                    WHERE m.seq = ? AND m.room_id = ? AND m.held = 0
                    """,
                arguments: [seq, roomID])
        ).first
    }

    /// What a change needs of the published message at `seq` of a room: its id, sender, text and
    /// whether it is deleted. A cached statement: it runs for every reaction and edit.
    public func changeTarget(roomID: Int64, seq: Int64) throws -> ChangeTarget? {
        try Row.fetchOne(
            db.cachedStatement(
                sql: """
                    SELECT m.id, m.sender_id, u.username, m.body, m.deleted_at IS NOT NULL AS deleted
                    FROM messages m LEFT JOIN users u ON u.id = m.sender_id
                    WHERE m.room_id = ? AND m.seq = ? AND m.held = 0
                    """),
            arguments: [roomID, seq]
        ).map {
            ChangeTarget(
                id: $0["id"], seq: seq, roomID: roomID, senderID: $0["sender_id"], senderName: $0["username"],
                body: $0["body"], deleted: $0["deleted"])
        }
    }

    /// Stores an event unless this device already made one with this client id; returns nil when
    /// stored, or the earlier event's `(seq, createdAt)` for a retry.
    public func insertEvent(
        _ event: MessageEvent, userID: Int64?, deviceID: Int64?, clientID: String?
    ) throws -> (seq: Int64, createdAt: Int64)? {
        try db.cachedStatement(
            sql: """
                INSERT INTO message_events
                    (seq, room_id, message_seq, kind, user_id, device_id, client_id, emoji, added, body, created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (device_id, client_id) DO NOTHING
                """
        ).execute(arguments: [
            event.seq, event.roomID, event.messageSeq, event.kind.rawValue, userID, deviceID, clientID, event.emoji,
            event.added, event.body, event.createdAt,
        ])
        if changes > 0 { return nil }
        guard let earlier = try self.event(deviceID: deviceID, clientID: clientID) else {
            throw StorageError.constraint("event insert ignored without a matching row")
        }
        return earlier
    }

    /// The `(seq, createdAt)` of the event this device made with this client id, if any.
    public func event(deviceID: Int64?, clientID: String?) throws -> (seq: Int64, createdAt: Int64)? {
        try Row.fetchOne(
            db, sql: "SELECT seq, created_at FROM message_events WHERE device_id = ? AND client_id = ?",
            arguments: [deviceID, clientID]
        ).map { ($0["seq"], $0["created_at"]) }
    }

    /// Adds (`on`) or takes back a user's reaction; false when that changes nothing.
    public func setReaction(messageID: Int64, userID: Int64, emoji: String, on: Bool, now: Int64) throws -> Bool {
        if on {
            try db.cachedStatement(
                sql: """
                    INSERT INTO reactions (message_id, user_id, emoji, created_at) VALUES (?, ?, ?, ?)
                    ON CONFLICT DO NOTHING
                    """
            ).execute(arguments: [messageID, userID, emoji, now])
        } else {
            try db.cachedStatement(sql: "DELETE FROM reactions WHERE message_id = ? AND user_id = ? AND emoji = ?")
                .execute(arguments: [messageID, userID, emoji])
        }
        return changes > 0
    }

    /// Replaces a message's text, keeping the one it had in `message_edits`.
    public func editMessage(id: Int64, body: String, now: Int64) throws {
        try db.cachedStatement(
            sql: "INSERT INTO message_edits (message_id, body, edited_at) SELECT id, body, ? FROM messages WHERE id = ?"
        ).execute(arguments: [now, id])
        try db.cachedStatement(sql: "UPDATE messages SET body = ?, edited_at = ? WHERE id = ?")
            .execute(arguments: [body, now, id])
    }

    /// The texts a message had before its edits, oldest first.
    public func earlierTexts(messageID: Int64) throws -> [(body: String, editedAt: Int64)] {
        try Row.fetchAll(
            db, sql: "SELECT body, edited_at FROM message_edits WHERE message_id = ? ORDER BY id",
            arguments: [messageID]
        ).map { ($0["body"], $0["edited_at"]) }
    }

    /// Deletes a message for everyone: its text, earlier texts, reactions and attachments go (an
    /// attachment's bytes with it, which frees its owner's quota); the row stays, marked deleted,
    /// so timelines can say so and the seq is never reused. The texts its edit events carried go too.
    public func deleteForEveryone(id: Int64, roomID: Int64, seq: Int64, now: Int64) throws {
        try db.execute(sql: "UPDATE messages SET body = '', deleted_at = ? WHERE id = ?", arguments: [now, id])
        try db.execute(sql: "DELETE FROM message_edits WHERE message_id = ?", arguments: [id])
        try db.execute(sql: "DELETE FROM reactions WHERE message_id = ?", arguments: [id])
        try db.execute(sql: "DELETE FROM attachments WHERE message_id = ?", arguments: [id])
        try db.execute(
            sql: "UPDATE message_events SET body = NULL WHERE room_id = ? AND message_seq = ? AND kind = 'edit'",
            arguments: [roomID, seq])
    }

    /// Events after `seq` in any room `userID` is in, in seq order, at most `limit`.
    public func events(forUser userID: Int64, after seq: Int64, limit: Int) throws -> [MessageEvent] {
        try MessageEvent.fetchAll(
            db,
            sql: """
                SELECT e.seq, e.room_id, e.message_seq, e.kind, u.username, e.emoji, e.added, e.body, e.created_at
                FROM message_events e LEFT JOIN users u ON u.id = e.user_id
                WHERE e.seq > ? AND e.room_id IN (SELECT room_id FROM room_members WHERE user_id = ?)
                ORDER BY e.seq LIMIT ?
                """,
            arguments: [seq, userID, limit])
    }
}

/// The little a reaction, an edit or a deletion needs to know of the message it changes.
public struct ChangeTarget: Sendable {
    public let id: Int64
    public let seq: Int64
    public let roomID: Int64
    public let senderID: Int64?
    public let senderName: String?
    public let body: String
    public let deleted: Bool
}

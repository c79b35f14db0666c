import GRDB

extension Store {
    static let messageColumns = """
        m.id, m.seq, m.room_id, m.sender_id, u.username, m.body, m.created_at, m.held, m.system, m.edited_at,
        m.deleted_at, m.mentions,
        m.reply_to, ru.username AS reply_from, r.body AS reply_body
        """
    /// Messages with their senders and the messages they reply to (`m`, `u`, `r`, `ru`).
    static let messageSource = """
        messages m LEFT JOIN users u ON u.id = m.sender_id
        LEFT JOIN messages r ON m.reply_to IS NOT NULL AND r.seq = m.reply_to AND r.room_id = m.room_id
        LEFT JOIN users ru ON ru.id = r.sender_id
        """

    /// The last seq handed out (0 before the first message): the highest stored message or
    /// event, or the floor that deleting them leaves in `counters` (migrations 0009 and 0012),
    /// whichever is higher. Storing a message or event with the next seq hands it out.
    public func lastSeq() throws -> Int64 {
        try Int64.fetchOne(
            db.cachedStatement(
                sql: """
                    SELECT max(coalesce((SELECT value FROM counters WHERE name = 'seq'), 0),
                               coalesce((SELECT max(seq) FROM messages), 0),
                               coalesce((SELECT max(seq) FROM message_events), 0))
                    """)) ?? 0
    }

    /// Stores a message (held for review when `held`) unless this device already sent one with
    /// this client id.
    ///
    /// Returns nil when the message was stored, or the earlier message's `(seq, createdAt, body,
    /// held)` when it is a retry: then nothing is stored.
    public func insertMessage(
        seq: Int64, roomID: Int64, senderID: Int64, deviceID: Int64, clientID: String, body: String, held: Bool = false,
        replyTo: Int64? = nil, mentions: [String] = [], now: Int64
    ) throws -> (id: Int64, seq: Int64, createdAt: Int64, body: String, held: Bool)? {
        // A cached statement (the send path runs this thousands of times a second, and compiling
        // it each time with GRDB's authorizer cost more than the insert), bound and run directly.
        let insert = DirectStatement(
            try db.cachedStatement(
                sql: """
                    INSERT INTO messages
                        (seq, room_id, sender_id, device_id, client_id, body, held, reply_to, mentions, created_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (device_id, client_id) DO NOTHING
                    """), in: db)
        insert.bind(seq, at: 1)
        insert.bind(roomID, at: 2)
        insert.bind(senderID, at: 3)
        insert.bind(deviceID, at: 4)
        insert.bind(clientID, at: 5)
        insert.bind(body, at: 6)
        insert.bind(held, at: 7)
        insert.bind(replyTo, at: 8)
        insert.bind(mentions.isEmpty ? nil : mentions.joined(separator: "\n"), at: 9)
        insert.bind(now, at: 10)
        try insert.run()
        if changes > 0 { return nil }
        let row = try Row.fetchOne(
            db, sql: "SELECT id, seq, created_at, body, held FROM messages WHERE device_id = ? AND client_id = ?",
            arguments: [deviceID, clientID])
        guard let row else { throw StorageError.constraint("message insert ignored without a matching row") }
        return (row["id"], row["seq"], row["created_at"], row["body"], row["held"])
    }

    /// One message by id, held or not.
    public func message(id: Int64) throws -> Message? {
        try completed(
            Message.fetchAll(
                db,
                sql: """
                    SELECT \(Self.messageColumns) FROM \(Self.messageSource)
                    WHERE m.id = ?
                    """,
                arguments: [id])
        ).first
    }

    /// Up to `count` published messages of a room just before and just after `seq`, in seq order:
    /// the context a moderator reads a message in.
    public func context(roomID: Int64, around seq: Int64, count: Int) throws -> (before: [Message], after: [Message]) {
        let before = try history(roomID: roomID, before: seq, limit: count).reversed()
        let after = try completed(
            Message.fetchAll(
                db,
                sql: """
                    SELECT \(Self.messageColumns) FROM \(Self.messageSource)
                    WHERE m.room_id = ? AND m.seq > ? AND m.held = 0 ORDER BY m.seq LIMIT ?
                    """,
                arguments: [roomID, seq, count]))
        return (Array(before), after)
    }

    /// Publishes a held message at a new `seq`, so devices that synced past its old place get it.
    public func publishHeldMessage(id: Int64, seq: Int64) throws {
        try db.execute(sql: "UPDATE messages SET held = 0, seq = ? WHERE id = ? AND held = 1", arguments: [seq, id])
    }

    /// Deletes a message and, through the foreign keys, its attachments, reports and review item.
    @discardableResult
    public func deleteMessage(id: Int64) throws -> Bool {
        try db.execute(sql: "DELETE FROM messages WHERE id = ?", arguments: [id])
        return changes > 0
    }

    /// Fills in the attachments and reactions of messages that have any (one query each for the lot).
    func completed(_ messages: [Message]) throws -> [Message] {
        guard !messages.isEmpty else { return messages }
        let ids = messages.map(\.id)
        let attachments = try Attachment.fetchAll(
            db, sql: "SELECT * FROM attachments WHERE message_id IN (\(Self.argumentList(ids.count))) ORDER BY id",
            arguments: StatementArguments(ids))
        let reactions = try Row.fetchAll(
            db,
            sql: """
                SELECT r.message_id, r.emoji, u.username FROM reactions r JOIN users u ON u.id = r.user_id
                WHERE r.message_id IN (\(Self.argumentList(ids.count))) ORDER BY r.created_at, r.user_id
                """,
            arguments: StatementArguments(ids))
        guard !attachments.isEmpty || !reactions.isEmpty else { return messages }
        let filesByMessage = Dictionary(grouping: attachments) { $0.messageID ?? 0 }
        var reactionsByMessage: [Int64: [String: [String]]] = [:]
        for row in reactions {
            reactionsByMessage[row["message_id"], default: [:]][row["emoji"], default: []].append(row["username"])
        }
        return messages.map { message in
            var message = message
            message.attachments = (filesByMessage[message.id] ?? []).map(AttachmentInfo.init)
            message.reactions = reactionsByMessage[message.id] ?? [:]
            return message
        }
    }

    /// A room's messages before `before` (all when nil), newest first, at most `limit`.
    public func history(roomID: Int64, before: Int64?, limit: Int) throws -> [Message] {
        try completed(
            Message.fetchAll(
                db,
                sql: """
                    SELECT \(Self.messageColumns) FROM \(Self.messageSource)
                    WHERE m.room_id = ? AND m.seq < ? AND m.held = 0 ORDER BY m.seq DESC LIMIT ?
                    """,
                arguments: [roomID, before ?? Int64.max, limit]))
    }

    /// A room's messages after `seq`, oldest first, at most `limit`.
    public func history(roomID: Int64, after seq: Int64, limit: Int) throws -> [Message] {
        try completed(
            Message.fetchAll(
                db,
                sql: """
                    SELECT \(Self.messageColumns) FROM \(Self.messageSource)
                    WHERE m.room_id = ? AND m.seq > ? AND m.held = 0 ORDER BY m.seq LIMIT ?
                    """,
                arguments: [roomID, seq, limit]))
    }

    /// Messages after `seq` in any room `userID` is in, in seq order, at most `limit`.
    public func messages(forUser userID: Int64, after seq: Int64, limit: Int) throws -> [Message] {
        try completed(
            Message.fetchAll(
                db,
                sql: """
                    SELECT \(Self.messageColumns) FROM \(Self.messageSource)
                    WHERE m.seq > ? AND m.held = 0 AND m.room_id IN (SELECT room_id FROM room_members WHERE user_id = ?)
                    ORDER BY m.seq LIMIT ?
                    """,
                arguments: [seq, userID, limit]))
    }

    /// The id of the message a device sent with this client id, if any (a retry).
    public func messageID(deviceID: Int64, clientID: String) throws -> Int64? {
        try Int64.fetchOne(
            db, sql: "SELECT id FROM messages WHERE device_id = ? AND client_id = ?", arguments: [deviceID, clientID])
    }

    /// The newest message of a room, if any.
    public func lastMessage(roomID: Int64) throws -> Message? {
        try history(roomID: roomID, before: nil, limit: 1).first
    }

    /// How many messages in a room come after `seq` from someone other than `userID`.
    public func unreadCount(roomID: Int64, userID: Int64, after seq: Int64) throws -> Int {
        try Int.fetchOne(
            db,
            sql: """
                SELECT count(*) FROM messages WHERE room_id = ? AND seq > ? AND held = 0 AND coalesce(sender_id, 0) != ?
                """,
            arguments: [roomID, seq, userID]) ?? 0
    }
}

extension Store {
    /// Stores a system line of a room ("mum added sam") under `seq`, made by `actorID`.
    public func insertSystemLine(seq: Int64, roomID: Int64, actorID: Int64?, body: String, now: Int64) throws -> Int64 {
        try db.execute(
            sql: """
                INSERT INTO messages (seq, room_id, sender_id, device_id, client_id, body, system, created_at)
                VALUES (?, ?, ?, NULL, ?, ?, 1, ?)
                """,
            arguments: [seq, roomID, actorID, "system-\(seq)", body, now])
        return db.lastInsertedRowID
    }
}

import GRDB

extension Store {
    /// Creates a room and adds its members.
    public func insertRoom(
        kind: Room.Kind, name: String?, ownerID: Int64?, directKey: String?, memberIDs: [Int64], now: Int64
    ) throws -> Room {
        try db.execute(
            sql: "INSERT INTO rooms (kind, name, owner_id, direct_key, created_at) VALUES (?, ?, ?, ?, ?)",
            arguments: [kind.rawValue, name, ownerID, directKey, now])
        let room = Room(id: db.lastInsertedRowID, kind: kind, name: name, ownerID: ownerID, createdAt: now)
        for userID in memberIDs {
            try addMember(roomID: room.id, userID: userID, now: now, admin: kind == .group && userID == ownerID)
        }
        return room
    }

    /// The room with this id, if any.
    public func room(id: Int64) throws -> Room? {
        try Room.fetchOne(db, sql: "SELECT * FROM rooms WHERE id = ?", arguments: [id])
    }

    /// What people call each of these rooms: a group's name, or "mum and dad" for a direct chat.
    public func roomTitles(ids: Set<Int64>) throws -> [Int64: String] {
        guard !ids.isEmpty else { return [:] }
        let rows = try Row.fetchAll(
            db,
            sql: """
                SELECT r.id, r.name, (SELECT group_concat(u.username, ' and ') FROM room_members m
                                      JOIN users u ON u.id = m.user_id WHERE m.room_id = r.id) AS people
                FROM rooms r WHERE r.id IN (\(ids.map { _ in "?" }.joined(separator: ",")))
                """,
            arguments: StatementArguments(Array(ids)))
        return Dictionary(
            uniqueKeysWithValues: rows.map { row in
                (row["id"] as Int64, (row["name"] as String?) ?? (row["people"] as String?) ?? "a direct chat")
            })
    }

    /// `userID`'s own settings for a room they are in (nil when they are not).
    public func chatSettings(roomID: Int64, userID: Int64) throws -> ChatSettings? {
        try Row.fetchOne(
            db, sql: "SELECT muted_until, pinned, archived FROM room_members WHERE room_id = ? AND user_id = ?",
            arguments: [roomID, userID]
        ).map { ChatSettings(mutedUntil: $0["muted_until"], pinned: $0["pinned"], archived: $0["archived"]) }
    }

    /// Stores `userID`'s own settings for a room.
    public func setChatSettings(_ settings: ChatSettings, roomID: Int64, userID: Int64) throws {
        try db.execute(
            sql: "UPDATE room_members SET muted_until = ?, pinned = ?, archived = ? WHERE room_id = ? AND user_id = ?",
            arguments: [settings.mutedUntil, settings.pinned, settings.archived, roomID, userID])
    }

    /// The direct room with this key, if it exists.
    public func room(directKey: String) throws -> Room? {
        try Room.fetchOne(db, sql: "SELECT * FROM rooms WHERE direct_key = ?", arguments: [directKey])
    }

    /// The rooms a user is in, most recently active first.
    public func rooms(userID: Int64) throws -> [Room] {
        try Room.fetchAll(
            db,
            sql: """
                SELECT r.* FROM rooms r JOIN room_members m ON m.room_id = r.id AND m.user_id = ?
                ORDER BY coalesce((SELECT max(seq) FROM messages WHERE room_id = r.id), 0) DESC, r.id DESC
                """,
            arguments: [userID])
    }

    /// A room's members by username.
    public func members(roomID: Int64) throws -> [RoomMember] {
        try RoomMember.fetchAll(
            db,
            sql: """
                SELECT m.user_id, u.username, u.display_name, u.avatar, u.bot, m.last_read_seq, m.admin
                FROM room_members m JOIN users u ON u.id = m.user_id
                WHERE m.room_id = ? ORDER BY u.username
                """,
            arguments: [roomID])
    }

    /// The ids of a room's members.
    public func memberIDs(roomID: Int64) throws -> [Int64] {
        try Int64.fetchAll(
            db.cachedStatement(sql: "SELECT user_id FROM room_members WHERE room_id = ?"), arguments: [roomID])
    }

    /// A count that moves with every change to any room's members (migration 0025's triggers):
    /// whoever keeps member lists between transactions reads it to know when they are stale.
    public func membersVersion() throws -> Int64 {
        try Int64.fetchOne(
            db.cachedStatement(sql: "SELECT value FROM counters WHERE name = 'members_version'")) ?? 0
    }

    /// How many members a room has.
    public func memberCount(roomID: Int64) throws -> Int {
        try Int.fetchOne(db, sql: "SELECT count(*) FROM room_members WHERE room_id = ?", arguments: [roomID]) ?? 0
    }

    /// How many rooms a user is in.
    public func roomCount(userID: Int64) throws -> Int {
        try Int.fetchOne(db, sql: "SELECT count(*) FROM room_members WHERE user_id = ?", arguments: [userID]) ?? 0
    }

    /// Whether a user is in a room.
    public func isMember(roomID: Int64, userID: Int64) throws -> Bool {
        try Bool.fetchOne(
            db, sql: "SELECT EXISTS (SELECT 1 FROM room_members WHERE room_id = ? AND user_id = ?)",
            arguments: [roomID, userID]) ?? false
    }

    /// Adds a member; returns false when they already were one.
    @discardableResult
    public func addMember(roomID: Int64, userID: Int64, now: Int64, admin: Bool = false) throws -> Bool {
        try db.execute(
            sql: "INSERT OR IGNORE INTO room_members (room_id, user_id, added_at, admin) VALUES (?, ?, ?, ?)",
            arguments: [roomID, userID, now, admin])
        return changes > 0
    }

    /// Makes a member a room admin, or not; false when that changes nothing.
    @discardableResult
    public func setRoomAdmin(roomID: Int64, userID: Int64, _ admin: Bool) throws -> Bool {
        try db.execute(
            sql: "UPDATE room_members SET admin = ? WHERE room_id = ? AND user_id = ? AND admin != ?",
            arguments: [admin, roomID, userID, admin])
        return changes > 0
    }

    /// Renames a room.
    public func renameRoom(id: Int64, to name: String) throws {
        try db.execute(sql: "UPDATE rooms SET name = ? WHERE id = ?", arguments: [name, id])
    }

    /// Removes a member; returns false when they were not one.
    @discardableResult
    public func removeMember(roomID: Int64, userID: Int64) throws -> Bool {
        try db.execute(
            sql: "DELETE FROM room_members WHERE room_id = ? AND user_id = ?", arguments: [roomID, userID])
        return changes > 0
    }

    /// Raises a member's last-read position; returns false when it was already that high.
    @discardableResult
    public func markRead(roomID: Int64, userID: Int64, seq: Int64) throws -> Bool {
        try db.execute(
            sql: "UPDATE room_members SET last_read_seq = ? WHERE room_id = ? AND user_id = ? AND last_read_seq < ?",
            arguments: [seq, roomID, userID, seq])
        return changes > 0
    }

    /// Raises members' delivered marks to the given seqs (never lowers one).
    public func markDelivered(_ marks: [(roomID: Int64, userID: Int64, seq: Int64)]) throws {
        let statement = try db.cachedStatement(
            sql: """
                UPDATE room_members SET last_delivered_seq = ?
                WHERE room_id = ? AND user_id = ? AND last_delivered_seq < ?
                """)
        for mark in marks { try statement.execute(arguments: [mark.seq, mark.roomID, mark.userID, mark.seq]) }
    }

    /// Each member's read and delivered marks in a room.
    public func receiptMarks(roomID: Int64) throws -> [(username: String, userID: Int64, read: Int64, delivered: Int64)]
    {
        try Row.fetchAll(
            db,
            sql: """
                SELECT u.username, m.user_id, m.last_read_seq, m.last_delivered_seq
                FROM room_members m JOIN users u ON u.id = m.user_id WHERE m.room_id = ? ORDER BY u.username
                """,
            arguments: [roomID]
        ).map { ($0["username"], $0["user_id"], $0["last_read_seq"], $0["last_delivered_seq"]) }
    }

    /// Users who share at least one room with `userID` (not including them).
    public func contacts(userID: Int64) throws -> [Int64] {
        try Int64.fetchAll(
            db,
            sql: """
                SELECT DISTINCT other.user_id FROM room_members mine
                JOIN room_members other ON other.room_id = mine.room_id AND other.user_id != mine.user_id
                WHERE mine.user_id = ?
                """,
            arguments: [userID])
    }
}

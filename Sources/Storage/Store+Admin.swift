import Foundation
import GRDB

/// A device with its owner's name, for the admin panel's device list.
public struct OwnedDevice: Sendable, Equatable {
    public var device: Device
    public var username: String
}

/// A room with its size, for the admin panel's room list.
public struct RoomOverview: Sendable, Equatable {
    public var room: Room
    public var members: Int
    public var messages: Int
}

/// What the admin panel lists and counts: paged, and cheap on a large database.
extension Store {
    /// Users whose name starts with `search`, by name, after `after`, at most `limit`.
    public func users(search: String?, after: String?, limit: Int) throws -> [User] {
        let prefix = (search ?? "").lowercased()
        return try User.fetchAll(
            db,
            sql: """
                SELECT * FROM users WHERE username LIKE ? ESCAPE '\\' AND username > ?
                ORDER BY username LIMIT ?
                """,
            arguments: [Self.likeEscaped(prefix) + "%", after ?? "", limit])
    }

    /// How many accounts there are, and how many of them are disabled.
    public func userCounts() throws -> (all: Int, disabled: Int) {
        let row = try Row.fetchOne(db, sql: "SELECT count(*) AS n, coalesce(sum(disabled), 0) AS d FROM users")
        return (row?["n"] ?? 0, row?["d"] ?? 0)
    }

    /// Signed-in devices of every user, newest first, with ids below `before`.
    public func activeDevices(before: Int64?, limit: Int) throws -> [OwnedDevice] {
        try Row.fetchAll(
            db,
            sql: """
                SELECT d.*, u.username FROM devices d JOIN users u ON u.id = d.user_id
                WHERE d.revoked_at IS NULL AND d.id < ? ORDER BY d.id DESC LIMIT ?
                """,
            arguments: [before ?? Int64.max, limit]
        ).map { OwnedDevice(device: try Device(row: $0), username: $0["username"]) }
    }

    /// How many devices are signed in.
    public func activeDeviceCount() throws -> Int {
        try Int.fetchOne(db, sql: "SELECT count(*) FROM devices WHERE revoked_at IS NULL AND pending = 0") ?? 0
    }

    /// Rooms with their member and message counts, newest first, with ids below `before`.
    public func roomOverviews(before: Int64?, limit: Int) throws -> [RoomOverview] {
        try Row.fetchAll(
            db,
            sql: """
                SELECT r.*, (SELECT count(*) FROM room_members WHERE room_id = r.id) AS member_count,
                       (SELECT count(*) FROM messages WHERE room_id = r.id) AS message_count
                FROM rooms r WHERE r.id < ? ORDER BY r.id DESC LIMIT ?
                """,
            arguments: [before ?? Int64.max, limit]
        ).map { RoomOverview(room: try Room(row: $0), members: $0["member_count"], messages: $0["message_count"]) }
    }

    /// How many messages were sent at or after `time` (milliseconds). Messages are stored in
    /// `seq` order with their send time, so the first `seq` at that time is found by a binary
    /// search over the `seq` index, and the rest is one range count.
    public func messageCount(since time: Int64) throws -> Int {
        var low: Int64 = 0
        var high = try lastSeq() + 1
        while low < high {
            let middle = (low + high) / 2
            let createdAt = try Int64.fetchOne(
                db, sql: "SELECT created_at FROM messages WHERE seq >= ? ORDER BY seq LIMIT 1", arguments: [middle])
            if let createdAt, createdAt < time { low = middle + 1 } else { high = middle }
        }
        return try Int.fetchOne(db, sql: "SELECT count(*) FROM messages WHERE seq >= ?", arguments: [low]) ?? 0
    }

    /// Invites, newest first, with ids below `before`.
    public func invites(before: Int64?, limit: Int) throws -> [Invite] {
        try Invite.fetchAll(
            db, sql: "SELECT * FROM invites WHERE id < ? ORDER BY id DESC LIMIT ?",
            arguments: [before ?? Int64.max, limit])
    }

    /// Backup runs, newest first, with ids below `before`.
    public func backups(before: Int64?, limit: Int) throws -> [BackupRecord] {
        try BackupRecord.fetchAll(
            db, sql: "SELECT * FROM backups WHERE id < ? ORDER BY id DESC LIMIT ?",
            arguments: [before ?? Int64.max, limit])
    }

    /// The newest backup that succeeded, if any.
    public func lastGoodBackup() throws -> BackupRecord? {
        try BackupRecord.fetchOne(db, sql: "SELECT * FROM backups WHERE error IS NULL ORDER BY id DESC LIMIT 1")
    }

    // MARK: Password resets

    /// Stores a password reset code (as its hash).
    public func insertPasswordReset(
        codeHash: Data, userID: Int64, createdBy: Int64?, now: Int64, expiresAt: Int64
    )
        throws
    {
        try db.execute(
            sql: """
                INSERT INTO password_resets (code_hash, user_id, created_by, created_at, expires_at)
                VALUES (?, ?, ?, ?, ?)
                """,
            arguments: [codeHash, userID, createdBy, now, expiresAt])
    }

    /// The user a reset code is for and whether it is still usable at `now`: nil when unknown.
    public func passwordReset(codeHash: Data, now: Int64) throws -> (userID: Int64, usable: Bool)? {
        guard
            let row = try Row.fetchOne(
                db, sql: "SELECT user_id, expires_at, used_at FROM password_resets WHERE code_hash = ?",
                arguments: [codeHash])
        else { return nil }
        let used: Int64? = row["used_at"]
        let expires: Int64 = row["expires_at"]
        return (row["user_id"], used == nil && expires > now)
    }

    /// Burns a reset code.
    public func usePasswordReset(codeHash: Data, now: Int64) throws {
        try db.execute(sql: "UPDATE password_resets SET used_at = ? WHERE code_hash = ?", arguments: [now, codeHash])
    }

    /// Ends every outstanding reset code of a user, as when their password changes.
    public func endPasswordResets(userID: Int64, now: Int64) throws {
        try db.execute(
            sql: "UPDATE password_resets SET used_at = ? WHERE user_id = ? AND used_at IS NULL",
            arguments: [now, userID])
    }
}

import Foundation
import GRDB

extension Store {
    /// Stores a new device with a live session whose token has the digest `tokenHash`.
    public func insertDevice(
        userID: Int64, name: String, userAgent: String?, ip: String?, tokenHash: Data, now: Int64,
        pending: Bool = false, kind: Device.Kind = .chat
    ) throws -> Device {
        try db.execute(
            sql: """
                INSERT INTO devices (user_id, name, user_agent, ip, token_hash, created_at, last_seen_at, pending, kind)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [userID, name, userAgent, ip, tokenHash, now, now, pending, kind.rawValue])
        return Device(
            id: db.lastInsertedRowID, userID: userID, name: name, userAgent: userAgent, ip: ip,
            createdAt: now, lastSeenAt: now, revokedAt: nil, pending: pending, kind: kind)
    }

    /// How many devices of a user have a live session (devices waiting for a link approval do not count).
    public func activeDeviceCount(userID: Int64) throws -> Int {
        try Int.fetchOne(
            db, sql: "SELECT count(*) FROM devices WHERE user_id = ? AND revoked_at IS NULL AND pending = 0",
            arguments: [userID]) ?? 0
    }

    /// Ends the pending devices whose link code has expired unapproved; returns their ids.
    public func expirePendingDevices(now: Int64) throws -> [Int64] {
        let ids = try Int64.fetchAll(
            db,
            sql: """
                SELECT d.id FROM devices d JOIN link_codes l ON l.device_id = d.id
                WHERE d.pending = 1 AND d.revoked_at IS NULL AND l.state = 'claimed' AND l.expires_at <= ?
                """,
            arguments: [now])
        for id in ids { try revokeDevice(id: id, now: now) }
        return ids
    }

    /// The device with this id, if any.
    public func device(id: Int64) throws -> Device? {
        try Device.fetchOne(db, sql: "SELECT * FROM devices WHERE id = ?", arguments: [id])
    }

    /// The device whose token has this digest, whatever its state.
    public func device(tokenHash: Data) throws -> Device? {
        try Device.fetchOne(db, sql: "SELECT * FROM devices WHERE token_hash = ?", arguments: [tokenHash])
    }

    /// Lets a pending device's token work.
    public func approveDevice(id: Int64) throws {
        try db.execute(sql: "UPDATE devices SET pending = 0 WHERE id = ?", arguments: [id])
    }

    /// Renames a device; false when there is no such device.
    @discardableResult
    public func renameDevice(id: Int64, to name: String) throws -> Bool {
        try db.execute(sql: "UPDATE devices SET name = ? WHERE id = ?", arguments: [name, id])
        return changes > 0
    }

    /// The live device whose session token has the digest `tokenHash`, with its enabled user.
    public func session(tokenHash: Data) throws -> (User, Device)? {
        guard
            let device = try Device.fetchOne(
                db, sql: "SELECT * FROM devices WHERE token_hash = ? AND revoked_at IS NULL AND pending = 0",
                arguments: [tokenHash]),
            let user = try user(id: device.userID), !user.disabled
        else { return nil }
        return (user, device)
    }

    /// A user's devices, newest first, signed-out ones included.
    public func devices(userID: Int64) throws -> [Device] {
        try Device.fetchAll(
            db, sql: "SELECT * FROM devices WHERE user_id = ? ORDER BY created_at DESC, id DESC", arguments: [userID])
    }

    /// Notes that a device was just used.
    public func touchDevice(id: Int64, now: Int64, ip: String?) throws {
        try db.execute(
            sql: "UPDATE devices SET last_seen_at = ?, ip = coalesce(?, ip) WHERE id = ?", arguments: [now, ip, id])
    }

    /// Marks devices as seen now (those with a socket open: in use without HTTP requests).
    public func touchDevices(ids: [Int64], now: Int64) throws {
        for chunk in stride(from: 0, to: ids.count, by: 500).map({ ids[$0..<min($0 + 500, ids.count)] }) {
            try db.execute(
                sql: "UPDATE devices SET last_seen_at = ? WHERE id IN (\(databaseQuestionMarks(count: chunk.count)))",
                arguments: StatementArguments([now] + Array(chunk)))
        }
    }

    /// Ends every session of `kind` last used before `idleBefore` or begun before
    /// `createdBefore` (milliseconds), bots' excepted; returns the devices whose sessions ended.
    public func expireSessions(
        of kind: Device.Kind, idleBefore: Int64, createdBefore: Int64, now: Int64
    ) throws -> [Int64] {
        let ids = try Int64.fetchAll(
            db,
            sql: """
                SELECT id FROM devices WHERE revoked_at IS NULL AND pending = 0 AND kind = ?
                AND (last_seen_at < ? OR created_at < ?)
                AND user_id NOT IN (SELECT id FROM users WHERE bot = 1)
                """,
            arguments: [kind.rawValue, idleBefore, createdBefore])
        for id in ids { try revokeDevice(id: id, now: now) }
        return ids
    }

    /// Ends one device's session; returns false when it had none.
    @discardableResult
    public func revokeDevice(id: Int64, now: Int64) throws -> Bool {
        try db.execute(
            sql: "UPDATE devices SET token_hash = NULL, revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
            arguments: [now, id])
        return changes > 0
    }

    /// Ends every session of a user; returns how many there were.
    @discardableResult
    /// Signs out every device of a user but one; returns the ids of those it signed out.
    public func revokeDevices(userID: Int64, except kept: Int64, now: Int64) throws -> [Int64] {
        let ids = try Int64.fetchAll(
            db, sql: "SELECT id FROM devices WHERE user_id = ? AND id != ? AND revoked_at IS NULL",
            arguments: [userID, kept])
        try db.execute(
            sql:
                "UPDATE devices SET token_hash = NULL, revoked_at = ? WHERE user_id = ? AND id != ? AND revoked_at IS NULL",
            arguments: [now, userID, kept])
        return ids
    }

    public func revokeDevices(userID: Int64, now: Int64) throws -> Int {
        try db.execute(
            sql: "UPDATE devices SET token_hash = NULL, revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL",
            arguments: [now, userID])
        return changes
    }
}

extension Store {
    /// Which of these devices still have a live session (their user enabled).
    public func liveDeviceIDs(_ ids: [Int64]) throws -> Set<Int64> {
        guard !ids.isEmpty else { return [] }
        return Set(
            try Int64.fetchAll(
                db,
                sql: """
                    SELECT d.id FROM devices d JOIN users u ON u.id = d.user_id
                    WHERE d.id IN (\(Self.argumentList(ids.count))) AND d.revoked_at IS NULL AND d.pending = 0 AND u.disabled = 0
                    """,
                arguments: StatementArguments(ids)))
    }
}

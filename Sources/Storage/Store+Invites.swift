import Foundation
import GRDB

extension Store {
    /// Stores a new invite under its code's digest.
    public func insertInvite(
        codeHash: Data, createdBy: Int64?, maxUses: Int, admin: Bool, expiresAt: Int64?, now: Int64
    ) throws -> Invite {
        try db.execute(
            sql: """
                INSERT INTO invites (code_hash, created_by, max_uses, admin, expires_at, created_at)
                VALUES (?, ?, ?, ?, ?, ?)
                """,
            arguments: [codeHash, createdBy, maxUses, admin, expiresAt, now])
        return Invite(
            id: db.lastInsertedRowID, createdBy: createdBy, maxUses: maxUses, uses: 0, admin: admin,
            expiresAt: expiresAt, revokedAt: nil, createdAt: now)
    }

    /// The invite whose code has this digest, if any.
    public func invite(codeHash: Data) throws -> Invite? {
        try Invite.fetchOne(db, sql: "SELECT * FROM invites WHERE code_hash = ?", arguments: [codeHash])
    }

    /// The invite with this id, if any.
    public func invite(id: Int64) throws -> Invite? {
        try Invite.fetchOne(db, sql: "SELECT * FROM invites WHERE id = ?", arguments: [id])
    }

    /// Every invite, newest first.
    public func invites() throws -> [Invite] {
        try Invite.fetchAll(db, sql: "SELECT * FROM invites ORDER BY created_at DESC, id DESC")
    }

    /// Counts one use of an invite.
    public func useInvite(id: Int64) throws {
        try db.execute(sql: "UPDATE invites SET uses = uses + 1 WHERE id = ?", arguments: [id])
    }

    /// Revokes an invite; returns false when it does not exist or was already revoked.
    @discardableResult
    public func revokeInvite(id: Int64, now: Int64) throws -> Bool {
        try db.execute(
            sql: "UPDATE invites SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", arguments: [now, id])
        return changes > 0
    }
}

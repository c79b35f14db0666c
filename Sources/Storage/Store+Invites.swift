import GRDB

extension Store {
    /// Stores a new invite.
    public func insertInvite(
        code: String, createdBy: Int64?, maxUses: Int, admin: Bool, expiresAt: Int64?, now: Int64
    ) throws -> Invite {
        try db.execute(
            sql: """
                INSERT INTO invites (code, created_by, max_uses, admin, expires_at, created_at)
                VALUES (?, ?, ?, ?, ?, ?)
                """,
            arguments: [code, createdBy, maxUses, admin, expiresAt, now])
        return Invite(
            id: db.lastInsertedRowID, code: code, createdBy: createdBy, maxUses: maxUses, uses: 0, admin: admin,
            expiresAt: expiresAt, revokedAt: nil, createdAt: now)
    }

    /// The invite with this code, if any.
    public func invite(code: String) throws -> Invite? {
        try Invite.fetchOne(db, sql: "SELECT * FROM invites WHERE code = ?", arguments: [code])
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

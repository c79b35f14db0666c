import GRDB

/// An invitation to register: a code that may be used `maxUses` times until it expires. Only the
/// code's SHA-256 is stored; the code itself is shown once, when the invite is made.
public struct Invite: Sendable, Equatable, Codable {
    public var id: Int64
    public var createdBy: Int64?
    public var maxUses: Int
    public var uses: Int
    /// Whoever registers with it becomes an admin.
    public var admin: Bool
    public var expiresAt: Int64?
    public var revokedAt: Int64?
    public var createdAt: Int64
}

extension Invite: FetchableRecord {
    public init(row: Row) throws {
        id = row["id"]
        createdBy = row["created_by"]
        maxUses = row["max_uses"]
        uses = row["uses"]
        admin = row["admin"]
        expiresAt = row["expires_at"]
        revokedAt = row["revoked_at"]
        createdAt = row["created_at"]
    }
}

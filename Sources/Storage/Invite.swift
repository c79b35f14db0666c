import GRDB

/// An invitation to register: a code that may be used `maxUses` times until it expires.
public struct Invite: Sendable, Equatable, Codable {
    public var id: Int64
    /// 128 random bits in lowercase base32; what `register` takes as `invite`.
    public var code: String
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
        code = row["code"]
        createdBy = row["created_by"]
        maxUses = row["max_uses"]
        uses = row["uses"]
        admin = row["admin"]
        expiresAt = row["expires_at"]
        revokedAt = row["revoked_at"]
        createdAt = row["created_at"]
    }
}

import GRDB

/// A signed-in (or formerly signed-in) client of a user: one per register, login or linked device.
public struct Device: Sendable, Equatable, Codable {
    public var id: Int64
    public var userID: Int64
    public var name: String
    public var userAgent: String?
    public var ip: String?
    public var createdAt: Int64
    public var lastSeenAt: Int64
    /// When the device was signed out or revoked; nil while its session is live.
    public var revokedAt: Int64?
    /// A linked device waiting for approval: it has a token that does not work yet.
    public var pending: Bool = false
    /// What the session is for.
    public var kind: Kind = .chat

    /// What a session is for: the chat client (and apps), or the admin panel.
    public enum Kind: String, Sendable, Codable {
        case chat
        case adminPanel = "admin_panel"
    }

    /// True while the device's session token works.
    public var isActive: Bool { revokedAt == nil && !pending }
}

extension Device: FetchableRecord {
    public init(row: Row) throws {
        id = row["id"]
        userID = row["user_id"]
        name = row["name"]
        userAgent = row["user_agent"]
        ip = row["ip"]
        createdAt = row["created_at"]
        lastSeenAt = row["last_seen_at"]
        revokedAt = row["revoked_at"]
        pending = row["pending"]
        kind = Kind(rawValue: row["kind"] ?? "chat") ?? .chat
    }
}

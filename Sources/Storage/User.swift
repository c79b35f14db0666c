import GRDB

/// An account.
public struct User: Sendable, Equatable, Codable {
    /// What an account may do on the server.
    /// What an account may do, in rising order: each role may do everything the ones below it may.
    public enum Role: String, Sendable, Codable, CaseIterable, Comparable {
        case admin, moderator, member

        private var rank: Int {
            switch self {
            case .member: 0
            case .moderator: 1
            case .admin: 2
            }
        }

        public static func < (lhs: Role, rhs: Role) -> Bool { lhs.rank < rhs.rank }
    }

    public var id: Int64
    /// Lowercase, 3–32 characters of `a-z 0-9 . _ -`.
    public var username: String
    /// The Argon2id PHC string.
    public var passwordHash: String
    public var role: Role
    public var disabled: Bool
    /// Milliseconds since the epoch.
    public var createdAt: Int64
    /// While in the future, the user's sends are refused with `muted` (milliseconds since the epoch).
    public var mutedUntil: Int64?
    /// The name they go by, if they gave one ("Mum"); the username otherwise.
    public var displayName: String?
    /// The public id of their avatar image, if they chose one.
    public var avatar: String?
    /// A program (an incoming webhook's bot), not a person: it never signs in.
    public var bot = false

    /// Creates a user value (not yet stored).
    public init(
        id: Int64 = 0, username: String, passwordHash: String, role: Role, disabled: Bool = false, createdAt: Int64
    ) {
        self.id = id
        self.username = username
        self.passwordHash = passwordHash
        self.role = role
        self.disabled = disabled
        self.createdAt = createdAt
    }
}

extension User: FetchableRecord {
    public init(row: Row) throws {
        id = row["id"]
        username = row["username"]
        passwordHash = row["password_hash"]
        role = Role(rawValue: row["role"]) ?? .member
        disabled = row["disabled"]
        createdAt = row["created_at"]
        mutedUntil = row["muted_until"]
        displayName = row["display_name"]
        avatar = row["avatar"]
        bot = row["bot"] ?? false
    }
}

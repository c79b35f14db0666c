import GRDB

/// A conversation: a direct chat between two people or a named group.
public struct Room: Sendable, Equatable, Codable {
    /// Direct rooms have exactly two members; groups have a name and an owner.
    public enum Kind: String, Sendable, Codable {
        case direct, group
    }

    public var id: Int64
    public var kind: Kind
    public var name: String?
    public var ownerID: Int64?
    public var createdAt: Int64
}

extension Room: FetchableRecord {
    public init(row: Row) throws {
        id = row["id"]
        kind = Kind(rawValue: row["kind"]) ?? .group
        name = row["name"]
        ownerID = row["owner_id"]
        createdAt = row["created_at"]
    }
}

/// A member of a room, as listings show them.
public struct RoomMember: Sendable, Equatable, Codable {
    public var userID: Int64
    public var username: String
    public var lastReadSeq: Int64
    /// Whether the member manages the group (room admin).
    public var admin: Bool
    /// Their profile: the name they go by and their avatar's public id.
    public var displayName: String?
    public var avatar: String?
    /// A program (a webhook's bot), not a person.
    public var bot: Bool
}

extension RoomMember: FetchableRecord {
    public init(row: Row) throws {
        userID = row["user_id"]
        username = row["username"]
        lastReadSeq = row["last_read_seq"]
        admin = row["admin"] ?? false
        displayName = row["display_name"]
        avatar = row["avatar"]
        bot = row["bot"] ?? false
    }
}

/// One member's own settings for a chat (nobody else sees them).
public struct ChatSettings: Sendable, Equatable {
    /// No push notifications (but mentions) until then, in ms; nil when not muted.
    public var mutedUntil: Int64?
    /// At the top of their chat list.
    public var pinned: Bool
    /// Out of their chat list, under "Archived".
    public var archived: Bool

    public init(mutedUntil: Int64? = nil, pinned: Bool = false, archived: Bool = false) {
        self.mutedUntil = mutedUntil
        self.pinned = pinned
        self.archived = archived
    }
}

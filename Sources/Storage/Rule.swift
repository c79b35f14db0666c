import GRDB

/// A moderation rule (docs/ADMIN.md, *Rules*): what to look for in a message and what to do when it is found.
public struct Rule: Sendable, Equatable, Codable {
    /// What a rule looks at.
    public enum Kind: String, Sendable, Codable, CaseIterable {
        /// A whole word or phrase, case-insensitive, after Unicode normalization.
        case word
        /// A regular expression over the message text.
        case regex
        /// A link to a domain (or its subdomains), or `*` for any link.
        case link
        /// An attachment whose type matches a MIME pattern such as `image/*`.
        case attachmentType = "attachment_type"
        /// More than `N` messages per user in a window, written `N/60s`.
        case rate
    }

    /// What happens to a message a rule matches, from the strictest down.
    public enum Action: String, Sendable, Codable, CaseIterable, Comparable {
        case block, hold, flag, mask

        /// How strict the action is: the strictest of several matching rules wins.
        public var strictness: Int {
            switch self {
            case .block: 4
            case .hold: 3
            case .flag: 2
            case .mask: 1
            }
        }

        public static func < (lhs: Action, rhs: Action) -> Bool { lhs.strictness < rhs.strictness }
    }

    public var id: Int64
    public var kind: Kind
    public var pattern: String
    public var action: Action
    /// The room the rule applies to; nil for every room.
    public var roomID: Int64?
    /// What the sender of a blocked message is told.
    public var message: String?
    /// When set, the rule applies only to accounts younger than this many days.
    public var newAccountDays: Int?
    /// Why the server disabled the rule at start (its pattern no longer compiles); nil while it is in force.
    public var disabled: String?
    public var createdBy: Int64?
    public var createdAt: Int64
    public var updatedAt: Int64

    /// Creates a rule value (not yet stored).
    public init(
        id: Int64 = 0, kind: Kind, pattern: String, action: Action, roomID: Int64? = nil, message: String? = nil,
        newAccountDays: Int? = nil, createdBy: Int64? = nil, createdAt: Int64 = 0, updatedAt: Int64 = 0
    ) {
        self.id = id
        self.kind = kind
        self.pattern = pattern
        self.action = action
        self.roomID = roomID
        self.message = message
        self.newAccountDays = newAccountDays
        self.createdBy = createdBy
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    /// One line for the audit log and the review queue: `#3 word "darn" → mask`.
    public var summary: String {
        "#\(id) \(kind.rawValue) \"\(pattern.prefix(80))\" → \(action.rawValue)"
    }
}

extension Rule: FetchableRecord {
    public init(row: Row) throws {
        id = row["id"]
        guard let kind = Kind(rawValue: row["kind"]), let action = Action(rawValue: row["action"]) else {
            throw StorageError.notHearthDatabase("a rule has an unknown kind or action")
        }
        self.kind = kind
        self.action = action
        pattern = row["pattern"]
        roomID = row["room_id"]
        message = row["message"]
        newAccountDays = row["new_account_days"]
        disabled = row["disabled"]
        createdBy = row["created_by"]
        createdAt = row["created_at"]
        updatedAt = row["updated_at"]
    }
}

extension Store {
    /// Every rule, oldest first.
    public func rules() throws -> [Rule] {
        try Rule.fetchAll(db, sql: "SELECT * FROM rules ORDER BY id")
    }

    /// One rule, if it exists.
    public func rule(id: Int64) throws -> Rule? {
        try Rule.fetchOne(db, sql: "SELECT * FROM rules WHERE id = ?", arguments: [id])
    }

    /// Stores a new rule and returns it with its id.
    public func insertRule(_ rule: Rule) throws -> Rule {
        try db.execute(
            sql: """
                INSERT INTO rules (kind, pattern, action, room_id, message, new_account_days, created_by, created_at,
                                   updated_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                rule.kind.rawValue, rule.pattern, rule.action.rawValue, rule.roomID, rule.message, rule.newAccountDays,
                rule.createdBy, rule.createdAt, rule.updatedAt,
            ])
        var stored = rule
        stored.id = db.lastInsertedRowID
        return stored
    }

    /// Replaces a rule's fields; returns false when there is no such rule.
    @discardableResult
    public func updateRule(_ rule: Rule) throws -> Bool {
        try db.execute(
            sql: """
                UPDATE rules SET kind = ?, pattern = ?, action = ?, room_id = ?, message = ?, new_account_days = ?,
                                 disabled = NULL, updated_at = ?
                WHERE id = ?
                """,
            arguments: [
                rule.kind.rawValue, rule.pattern, rule.action.rawValue, rule.roomID, rule.message, rule.newAccountDays,
                rule.updatedAt, rule.id,
            ])
        return changes > 0
    }

    /// Takes a rule out of force, keeping it and the reason (`rules.disabled`); saving it again enables it.
    public func disableRule(id: Int64, reason: String) throws {
        try db.execute(sql: "UPDATE rules SET disabled = ? WHERE id = ?", arguments: [reason, id])
    }

    /// Deletes a rule; returns false when there is no such rule.
    @discardableResult
    public func deleteRule(id: Int64) throws -> Bool {
        try db.execute(sql: "DELETE FROM rules WHERE id = ?", arguments: [id])
        return changes > 0
    }
}

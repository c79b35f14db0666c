import GRDB

/// One line of the audit log: who did what to whom, when, and why.
public struct AuditEntry: Sendable, Equatable {
    public var id: Int64
    public var at: Int64
    public var actorID: Int64?
    /// `username`, `cli` or `server`.
    public var actor: String
    public var action: String
    public var target: String?
    public var detail: String?
    public var ip: String?
}

/// Which audit entries to read: every given field must match.
public struct AuditFilter: Sendable, Equatable {
    /// An exact action, or a prefix ending in `_` (`rule_` for every rule action).
    public var action: String?
    /// The actor's name, exactly (case-insensitive).
    public var actor: String?
    /// Text the target contains.
    public var target: String?
    /// Entries at or after this time (milliseconds).
    public var since: Int64?

    public init(action: String? = nil, actor: String? = nil, target: String? = nil, since: Int64? = nil) {
        self.action = action
        self.actor = actor
        self.target = target
        self.since = since
    }
}

extension AuditEntry: FetchableRecord {
    public init(row: Row) throws {
        id = row["id"]
        at = row["at"]
        actorID = row["actor_id"]
        actor = row["actor"]
        action = row["action"]
        target = row["target"]
        detail = row["detail"]
        ip = row["ip"]
    }
}

extension Store {
    /// Appends to the audit log.
    public func audit(
        actorID: Int64?, actor: String, action: String, target: String?, detail: String? = nil, ip: String? = nil,
        now: Int64
    ) throws {
        try db.execute(
            sql: "INSERT INTO audit_log (at, actor_id, actor, action, target, detail, ip) VALUES (?, ?, ?, ?, ?, ?, ?)",
            arguments: [now, actorID, actor, action, target, detail, ip])
    }

    /// Audit entries that match `filter`, newest first, with ids below `before`, at most `limit`.
    public func auditEntries(_ filter: AuditFilter, before: Int64?, limit: Int) throws -> [AuditEntry] {
        var conditions = ["id < ?"]
        var arguments: StatementArguments = [before ?? Int64.max]
        if let action = filter.action {
            // `rule_` matches every action that starts with it.
            if action.hasSuffix("_") {
                conditions.append("action >= ? AND action < ?")
                arguments += [action, action.dropLast() + "`"]
            } else {
                conditions.append("action = ?")
                arguments += [action]
            }
        }
        if let actor = filter.actor {
            conditions.append("actor = ? COLLATE NOCASE")
            arguments += [actor]
        }
        if let target = filter.target {
            conditions.append("target LIKE ? ESCAPE '\\'")
            arguments += ["%" + Self.likeEscaped(target) + "%"]
        }
        if let since = filter.since {
            conditions.append("at >= ?")
            arguments += [since]
        }
        return try AuditEntry.fetchAll(
            db,
            sql: "SELECT * FROM audit_log WHERE \(conditions.joined(separator: " AND ")) ORDER BY id DESC LIMIT ?",
            arguments: arguments + [limit])
    }

    static func likeEscaped(_ text: String) -> String {
        text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%")
            .replacingOccurrences(of: "_", with: "\\_")
    }
}

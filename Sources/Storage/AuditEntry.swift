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

    /// The newest audit entries first.
    public func auditEntries(limit: Int) throws -> [AuditEntry] {
        try AuditEntry.fetchAll(db, sql: "SELECT * FROM audit_log ORDER BY id DESC LIMIT ?", arguments: [limit])
    }
}

import GRDB

/// One recorded backup run.
public struct BackupRecord: Sendable, Equatable {
    public var id: Int64
    public var kind: String
    public var startedAt: Int64
    public var durationMS: Int64
    public var target: String
    public var size: Int64?
    /// Nil when the backup succeeded.
    public var error: String?

    /// Creates a record value.
    public init(
        id: Int64, kind: String, startedAt: Int64, durationMS: Int64, target: String, size: Int64?, error: String?
    ) {
        self.id = id
        self.kind = kind
        self.startedAt = startedAt
        self.durationMS = durationMS
        self.target = target
        self.size = size
        self.error = error
    }
}

extension BackupRecord: FetchableRecord {
    public init(row: Row) throws {
        id = row["id"]
        kind = row["kind"]
        startedAt = row["started_at"]
        durationMS = row["duration_ms"]
        target = row["target"]
        size = row["size"]
        error = row["error"]
    }
}

extension Store {
    /// Records a backup run.
    public func recordBackup(
        kind: String, startedAt: Int64, durationMS: Int64, target: String, size: Int64?, error: String?
    ) throws {
        try db.execute(
            sql: """
                INSERT INTO backups (kind, started_at, duration_ms, target, size, error) VALUES (?, ?, ?, ?, ?, ?)
                """,
            arguments: [kind, startedAt, durationMS, target, size, error])
    }

    /// The newest backup runs first.
    public func backups(limit: Int) throws -> [BackupRecord] {
        try BackupRecord.fetchAll(db, sql: "SELECT * FROM backups ORDER BY id DESC LIMIT ?", arguments: [limit])
    }
}

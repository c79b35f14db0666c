import Foundation
import GRDB

extension AppDatabase {
    /// Copies a consistent snapshot of the database to a new file at `url`, through SQLite's
    /// online backup API, while other connections keep writing.
    /// The setting a snapshot carries: when it was made (milliseconds), for `hearth restore` to show.
    public static let snapshotMadeAtKey = "backup_made_at"

    public func snapshot(to url: URL, madeAt: Int64) throws {
        do {
            // The snapshot is a scratch file, deleted once encrypted: it needs no journal and no
            // fsync, and a 1 GiB fsync would stall the server's own commits.
            var configuration = Configuration()
            configuration.prepareDatabase { db in
                try db.execute(sql: "PRAGMA synchronous = OFF; PRAGMA journal_mode = OFF")
            }
            let destination = try DatabaseQueue(path: url.path, configuration: configuration)
            try pool.backup(to: destination)
            try destination.write { try Store(db: $0).setSetting(Self.snapshotMadeAtKey, to: String(madeAt)) }
            try destination.close()
        } catch {
            throw Self.mapped(error)
        }
    }

    /// Closes the database's connections.
    public func close() throws {
        try pool.close()
    }

    /// Checks that the SQLite file at `url` is intact and is a Hearth database this binary can open.
    /// Returns its applied migrations.
    /// What a Hearth database file holds, as `hearth restore` shows it before it replaces anything.
    public struct Summary: Sendable, Equatable {
        /// The migrations it has.
        public var migrations: [String]
        /// The public URL of the server it came from, if that server stored one.
        public var serverURL: String?
        public var users: Int
        public var messages: Int
        /// When its newest message was sent (milliseconds), if it has any.
        public var newestMessageAt: Int64?
        /// When the backup was made (milliseconds); nil for backups made before Hearth recorded it.
        public var madeAt: Int64?
    }

    public static func verifyHearthDatabase(at url: URL) throws -> Summary {
        var configuration = Configuration()
        configuration.readonly = true
        let queue: DatabaseQueue
        do {
            queue = try DatabaseQueue(path: url.path, configuration: configuration)
        } catch {
            throw StorageError.notHearthDatabase("it is not an SQLite database")
        }
        defer { try? queue.close() }
        let (integrity, tables, applied): (String?, Set<String>, [String])
        do {
            (integrity, tables, applied) = try queue.read { db in
                let integrity = try String.fetchOne(db, sql: "PRAGMA integrity_check")
                let tables = Set(try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table'"))
                let applied =
                    tables.contains("grdb_migrations")
                    ? try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations ORDER BY identifier") : []
                return (integrity, tables, applied)
            }
        } catch {
            throw StorageError.notHearthDatabase("it is not a readable SQLite database")
        }
        guard integrity == "ok" else { throw StorageError.notHearthDatabase("its integrity check failed") }
        guard tables.isSuperset(of: ["grdb_migrations", "users", "devices", "settings"]) else {
            throw StorageError.notHearthDatabase("it is an SQLite database, but not Hearth's")
        }
        let unknown = Set(applied).subtracting(try Migrations.all().map(\.identifier)).sorted()
        guard unknown.isEmpty else { throw StorageError.newerSchema(unknown: unknown) }
        do {
            return try queue.read { db in
                func setting(_ key: String) throws -> String? {
                    try String.fetchOne(db, sql: "SELECT value FROM settings WHERE key = ?", arguments: [key])
                }
                let hasMessages = tables.contains("messages")
                return Summary(
                    migrations: applied, serverURL: try setting(Store.publicURLKey),
                    users: try Int.fetchOne(db, sql: "SELECT count(*) FROM users") ?? 0,
                    messages: hasMessages ? try Int.fetchOne(db, sql: "SELECT count(*) FROM messages") ?? 0 : 0,
                    newestMessageAt: hasMessages
                        ? try Int64.fetchOne(db, sql: "SELECT max(created_at) FROM messages") : nil,
                    madeAt: try setting(snapshotMadeAtKey).flatMap { Int64($0) })
            }
        } catch {
            throw StorageError.notHearthDatabase("it is not a readable Hearth database")
        }
    }
}

extension AppDatabase {
    /// Folds the WAL of the database file at `url` into it, best effort (for a file about to be set aside).
    public static func checkpointFile(at url: URL) {
        guard let queue = try? DatabaseQueue(path: url.path) else { return }
        _ = try? queue.writeWithoutTransaction { db in try db.checkpoint(.truncate) }
        try? queue.close()
    }
}

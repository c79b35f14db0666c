import Foundation
import GRDB

extension AppDatabase {
    /// Copies a consistent snapshot of the database to a new file at `url`, through SQLite's
    /// online backup API, while other connections keep writing.
    public func snapshot(to url: URL) throws {
        do {
            // The snapshot is a scratch file, deleted once encrypted: it needs no journal and no
            // fsync, and a 1 GiB fsync would stall the server's own commits.
            var configuration = Configuration()
            configuration.prepareDatabase { db in
                try db.execute(sql: "PRAGMA synchronous = OFF; PRAGMA journal_mode = OFF")
            }
            let destination = try DatabaseQueue(path: url.path, configuration: configuration)
            try pool.backup(to: destination)
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
    public static func verifyHearthDatabase(at url: URL) throws -> [String] {
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
        return applied
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

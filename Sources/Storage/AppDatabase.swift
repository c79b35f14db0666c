import CSQLiteWAL
import Crypto
import Foundation
import GRDB

/// The one SQLite database of a Hearth data dir, `<data-dir>/hearth.sqlite`.
///
/// A GRDB `DatabasePool` in WAL mode with `synchronous=FULL` (a commit is on disk when it
/// returns), foreign keys on, and a busy timeout so that CLI commands and a running server can
/// share the file. Opening it applies the embedded migrations and refuses a database written by
/// a newer schema.
public final class AppDatabase: Sendable {
    /// The database's file name inside the data dir.
    public static let fileName = "hearth.sqlite"

    /// How long a writer waits for another process's lock before giving up with `busy`.
    public static let busyTimeout: TimeInterval = 10
    /// The page cache of each connection, in KiB (SQLite's default is 2,000). Under load the
    /// writer touches a leaf of the `(device, client id)` index for every sending device, and
    /// with the default cache it re-read those pages from the file for every batch. The memory
    /// is taken only as pages are read.
    public static let cacheKiB = 16_384
    /// WAL pages past which a commit checkpoints the WAL itself (SQLite's default is 1,000;
    /// 16 MiB at 4 KiB pages). While `serve` runs, ``WALCheckpointer`` does nearly all of that
    /// copying off the writer's path; this backstop keeps the WAL bounded and lets it start over.
    public static let walBackstopPages = 4_000
    /// The most of `hearth.sqlite-wal` kept on disk once the WAL starts over (SQLite's
    /// `journal_size_limit`; by default it keeps the file at its largest). The WAL grows past
    /// the backstop only while something holds it — one large transaction, or a long read such as
    /// a backup while messages flow — and would otherwise stay that size on disk for good.
    public static let walKeptBytes = 64 << 20

    /// Where the database file is.
    public let url: URL
    let pool: DatabasePool

    /// Opens (creating if needed) the database in `dataDirectory`, which is itself created with
    /// owner-only permissions when missing, and brings the schema up to date.
    public static func open(dataDirectory: URL) throws -> AppDatabase {
        try prepareDataDirectory(dataDirectory)
        return try AppDatabase(url: dataDirectory.appending(path: fileName))
    }

    /// Creates `directory` with mode 0700 when it does not exist; fails when it is not a writable folder.
    public static func prepareDataDirectory(_ directory: URL) throws {
        let path = directory.path
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else {
                throw StorageError.dataDirectory(path: path, reason: "it exists and is not a directory")
            }
        } else {
            do {
                try FileManager.default.createDirectory(
                    at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            } catch {
                throw StorageError.dataDirectory(path: path, reason: "cannot create it (\(error.localizedDescription))")
            }
        }
        guard FileManager.default.isWritableFile(atPath: path) else {
            throw StorageError.dataDirectory(path: path, reason: "it is not writable by this user")
        }
    }

    /// SQLite's result from registering, as the default VFS, the one that writes each commit's WAL
    /// frames in one system call per 96 KiB (`Sources/CSQLiteWAL`): once per process, before the first
    /// database opens. Not `SQLITE_OK` only if SQLite's default VFS is not one it can wrap; the
    /// database then works as before, a `pwrite` per frame header and per page.
    static let walVFSRegistered = hearth_wal_vfs_register()

    /// The VFS SQLite opens new connections' files with.
    static var defaultVFSName: String { String(cString: hearth_default_vfs_name()) }

    /// Opens the database file at `url` and migrates it.
    public init(url: URL) throws {
        _ = Self.walVFSRegistered
        self.url = url
        var configuration = Configuration()
        configuration.foreignKeysEnabled = true
        configuration.busyMode = .timeout(Self.busyTimeout)
        configuration.prepareDatabase { db in
            try db.execute(
                sql: """
                    PRAGMA synchronous = FULL; PRAGMA cache_size = -\(Self.cacheKiB);
                    PRAGMA journal_size_limit = \(Self.walKeptBytes)
                    """)
        }
        do {
            pool = try DatabasePool(path: url.path, configuration: configuration)
            // GRDB switches its one writer connection to synchronous=NORMAL when it enables WAL,
            // after prepareDatabase ran; an ack must mean durable, so put FULL back.
            try pool.writeWithoutTransaction { db in
                try db.execute(sql: "PRAGMA synchronous = FULL; PRAGMA wal_autocheckpoint = \(Self.walBackstopPages)")
            }
        } catch {
            throw Self.mapped(error)
        }
        chmod(url.path, 0o600)
        try migrate()
    }

    /// Applies the embedded migrations that the database does not have yet, in order.
    private func migrate() throws {
        var migrator = DatabaseMigrator()
        for file in try Migrations.all() {
            migrator.registerMigration(file.identifier) { db in
                db.add(function: Self.sha256Function)
                try db.execute(sql: file.sql)
            }
        }
        do {
            let (applied, known) = try pool.read { db in
                (try migrator.appliedIdentifiers(db), Set(migrator.migrations))
            }
            let unknown = applied.subtracting(known).sorted()
            guard unknown.isEmpty else { throw StorageError.newerSchema(unknown: unknown) }
            try migrator.migrate(pool)
        } catch {
            throw Self.mapped(error)
        }
    }

    /// `hearth_sha256(text)`, for migrations: the SHA-256 of the text's UTF-8 bytes as a blob, as
    /// `SecretToken.digest` makes it (a migration that hashes stored secrets uses it).
    static let sha256Function = DatabaseFunction("hearth_sha256", argumentCount: 1, pure: true) { values in
        guard let text = String.fromDatabaseValue(values[0]) else { return nil }
        return Data(SHA256.hash(data: Data(text.utf8)))
    }

    /// The identifiers of the migrations recorded in the database, in order.
    public func appliedMigrations() throws -> [String] {
        try pool.read { db in
            try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations ORDER BY identifier")
        }
    }

    /// Runs `body` in one transaction (GRDB begins writes IMMEDIATE): all of it is committed, or none of it.
    public func write<T: Sendable>(_ body: @Sendable (Store) throws -> T) async throws -> T {
        do {
            return try await pool.write { db in try body(Store(db: db)) }
        } catch {
            throw Self.mapped(error)
        }
    }

    /// Runs `body` on a consistent read-only snapshot.
    public func read<T: Sendable>(_ body: @Sendable (Store) throws -> T) async throws -> T {
        do {
            return try await pool.read { db in try body(Store(db: db)) }
        } catch {
            throw Self.mapped(error)
        }
    }

    /// Runs `body` on a read-only snapshot, blocking the calling thread: for start-up only.
    public func readNow<T>(_ body: (Store) throws -> T) throws -> T {
        do {
            return try pool.read { db in try body(Store(db: db)) }
        } catch {
            throw Self.mapped(error)
        }
    }

    /// Runs `body` in one transaction, blocking the calling thread: for command-line tools only.
    public func writeNow<T>(_ body: (Store) throws -> T) throws -> T {
        do {
            return try pool.write { db in try body(Store(db: db)) }
        } catch {
            throw Self.mapped(error)
        }
    }

    /// Succeeds when the database can be read and its write lock taken; writes nothing.
    public func checkHealth() async throws {
        do {
            try await pool.writeWithoutTransaction { db in
                try db.inTransaction(.immediate) {
                    _ = try Int.fetchOne(db, sql: "SELECT count(*) FROM settings")
                    try db.execute(sql: "INSERT OR REPLACE INTO settings(key, value) VALUES ('health_check', 'ok')")
                    return .rollback
                }
            }
        } catch {
            throw Self.mapped(error)
        }
    }

    /// Maps SQLite failures to ``StorageError``; every other error passes through.
    static func mapped(_ error: any Error) -> any Error {
        guard let error = error as? DatabaseError else { return error }
        switch error.resultCode {
        case .SQLITE_CONSTRAINT: return StorageError.constraint(error.message ?? "constraint failed")
        case .SQLITE_FULL: return StorageError.full
        case .SQLITE_BUSY, .SQLITE_LOCKED: return StorageError.busy
        default: return StorageError.sqlite(code: error.resultCode.rawValue, message: error.message ?? "\(error)")
        }
    }
}

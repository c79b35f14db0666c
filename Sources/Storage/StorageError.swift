/// What the storage layer can fail with.
public enum StorageError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The data dir could not be created or is not usable.
    case dataDirectory(path: String, reason: String)
    /// The database was written by a newer Hearth: it has migrations this binary does not know.
    case newerSchema(unknown: [String])
    /// A file in `Migrations/` is not named `NNNN_name.sql`, or two share a number.
    case badMigration(String)
    /// A uniqueness or other constraint refused the change (the SQLite message says which).
    case constraint(String)
    /// The disk is full; nothing was written.
    case full
    /// Another process held the database lock for longer than the busy timeout.
    case busy
    /// A file that should be a Hearth database is not one.
    case notHearthDatabase(String)
    /// Another process (a running `hearth serve`, or a restore) holds the data dir.
    case dataDirectoryInUse(String)
    /// A full-text search SQLite could not read (its message says why).
    case invalidQuery(String)
    /// Any other SQLite failure.
    case sqlite(code: Int32, message: String)

    public var description: String {
        switch self {
        case .dataDirectory(let path, let reason):
            return "cannot use data directory \(path): \(reason)"
        case .newerSchema(let unknown):
            return "the database was written by a newer version of Hearth (unknown migrations: "
                + unknown.joined(separator: ", ") + "); install that version or newer, or restore a backup"
        case .badMigration(let reason):
            return "bad migration: \(reason)"
        case .constraint(let message):
            return "constraint failed: \(message)"
        case .full:
            return "the disk holding the database is full"
        case .busy:
            return "the database is locked by another process; try again"
        case .notHearthDatabase(let reason):
            return "not a Hearth database: \(reason)"
        case .dataDirectoryInUse(let path):
            return "a Hearth server (or another restore) is using \(path); stop it first"
        case .invalidQuery(let message):
            return "unreadable search: \(message)"
        case .sqlite(let code, let message):
            return "SQLite error \(code): \(message)"
        }
    }
}

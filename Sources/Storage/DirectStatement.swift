import GRDB
import GRDBSQLite

/// A cached statement bound and run with SQLite's own calls instead of GRDB's
/// `execute(arguments:)`, for the insert every message makes.
///
/// For that insert GRDB's way — each argument boxed into an array of `DatabaseValue`s, the count
/// validated, strings bound through ten nested temporary bindings, its bookkeeping around each
/// step — cost half as much again as SQLite's own work (docs/PERFORMANCE.md, session 19). This is
/// the escape hatch GRDB documents (`Statement.sqliteStatement`). What it skips is GRDB's support
/// for transaction observers, which Hearth does not use (no `TransactionObserver`, no
/// `ValueObservation`); SQLite's errors are thrown as the same `DatabaseError` GRDB throws.
/// Use it inside a transaction only, as every `Store` method is.
struct DirectStatement {
    private let statement: Statement
    private let database: Database
    private var handle: SQLiteStatement { statement.sqliteStatement }

    init(_ statement: Statement, in database: Database) {
        self.statement = statement
        self.database = database
    }

    /// Binds the `index`th parameter (1-based): the integer, or NULL.
    func bind(_ value: Int64?, at index: Int32) {
        if let value { sqlite3_bind_int64(handle, index, value) } else { sqlite3_bind_null(handle, index) }
    }

    func bind(_ value: Bool, at index: Int32) {
        sqlite3_bind_int64(handle, index, value ? 1 : 0)
    }

    /// Binds text as GRDB binds it — as a C string, so up to a first NUL if it had one (the relay
    /// refuses such text) — so that what this stores is what GRDB's lookups of it bind. SQLite
    /// copies it before the call returns.
    func bind(_ value: String?, at index: Int32) {
        guard let value else {
            sqlite3_bind_null(handle, index)
            return
        }
        _ = value.withCString { sqlite3_bind_text(handle, index, $0, -1, Self.transient) }
    }

    /// Steps the statement to its end, then resets it and clears its bindings, whatever happened.
    func run() throws {
        defer {
            sqlite3_reset(handle)
            sqlite3_clear_bindings(handle)
        }
        while true {
            switch sqlite3_step(handle) {
            case SQLITE_DONE: return
            case SQLITE_ROW: continue
            case let code:
                let message = database.sqliteConnection.map { String(cString: sqlite3_errmsg($0)) }
                throw DatabaseError(resultCode: ResultCode(rawValue: code), message: message, sql: statement.sql)
            }
        }
    }

    /// SQLite copies the value before the bind call returns (`SQLITE_TRANSIENT`).
    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
}

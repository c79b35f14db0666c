import GRDB

/// The database inside one transaction: the queries and changes Services compose.
///
/// Only reachable through ``AppDatabase/write(_:)`` and ``AppDatabase/read(_:)``, so every use is
/// transactional. Methods for each table live in `Store+<Table>.swift`.
public struct Store {
    let db: Database

    /// The number of rows the last statement changed.
    var changes: Int { db.changesCount }
}

extension Store {
    /// The rowid of the last row inserted in this transaction.
    public var lastInsertedRowID: Int64 { db.lastInsertedRowID }
}

extension Store {
    /// `?,?,…,?` for an SQL `IN (…)` list of `count` arguments.
    static func argumentList(_ count: Int) -> String {
        Array(repeating: "?", count: count).joined(separator: ",")
    }
}

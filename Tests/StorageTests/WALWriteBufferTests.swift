import Foundation
import GRDB
import Testing

@testable import Storage

/// The VFS that writes a commit's WAL frames in one system call per 96 KiB (`Sources/CSQLiteWAL`): whatever
/// it gathers must be in the file before any connection can read it.
@Suite struct WALWriteBufferTests {
    let directory = FileManager.default.temporaryDirectory.appending(path: "hearth-walbuffer-\(UUID().uuidString)")

    /// Expects a fresh connection (its own file handles, nothing cached) to read exactly `written`
    /// of table `t`, and SQLite to find the file intact.
    func expectAFreshConnectionReads(_ written: [String], in database: AppDatabase) throws {
        let queue = try DatabaseQueue(path: database.url.path)
        defer { try? queue.close() }
        let (rows, integrity) = try queue.read { db in
            (
                try String.fetchAll(db, sql: "SELECT n || ':' || hex(b) FROM t ORDER BY n"),
                try String.fetchOne(db, sql: "PRAGMA integrity_check")
            )
        }
        #expect(rows == written)
        #expect(integrity == "ok")
    }

    @Test func everyConnectionOpensItsFilesThroughItOnceADatabaseIsOpen() throws {
        defer { try? FileManager.default.removeItem(at: directory) }
        _ = try AppDatabase.open(dataDirectory: directory)
        #expect(AppDatabase.walVFSRegistered == 0)
        #expect(AppDatabase.defaultVFSName == "hearth-wal")
    }

    /// 200 pages in one commit: more than the buffer holds, and more than SQLite's unix VFS
    /// writes in one call (a write of 128 KiB or more came back as a full disk).
    @Test func aCommitLargerThanTheBufferIsWholeForEveryConnection() async throws {
        defer { try? FileManager.default.removeItem(at: directory) }
        let database = try AppDatabase.open(dataDirectory: directory)
        let written = try await database.pool.write { db in
            try db.execute(sql: "CREATE TABLE t (n INTEGER PRIMARY KEY, b BLOB)")
            for n in 0..<200 { try db.execute(sql: "INSERT INTO t VALUES (?, randomblob(3000))", arguments: [n]) }
            return try String.fetchAll(db, sql: "SELECT n || ':' || hex(b) FROM t ORDER BY n")
        }
        #expect(try await database.pool.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM t") } == 200)
        try expectAFreshConnectionReads(written, in: database)
    }

    /// With a cache of ten pages, SQLite writes pages to the WAL before the commit, reads them back
    /// from it, and rewrites those frames in place when they change again: reads and writes that
    /// do not continue the buffer.
    @Test func aTransactionThatSpillsAndRewritesItsPagesIsWhole() async throws {
        defer { try? FileManager.default.removeItem(at: directory) }
        let database = try AppDatabase.open(dataDirectory: directory)
        let written = try await database.pool.writeWithoutTransaction { db in
            try db.execute(sql: "CREATE TABLE t (n INTEGER PRIMARY KEY, b BLOB); PRAGMA cache_size = 10")
            try db.inTransaction {
                for n in 0..<300 { try db.execute(sql: "INSERT INTO t VALUES (?, randomblob(1000))", arguments: [n]) }
                try db.execute(sql: "UPDATE t SET b = randomblob(1100) WHERE n % 3 = 0")
                try db.execute(sql: "DELETE FROM t WHERE n % 7 = 0")
                // Rows here and there: pages leave the cache, come back from the WAL, and their
                // frames are rewritten in place.
                for step in 0..<2000 {
                    try db.execute(
                        sql: "UPDATE t SET b = randomblob(1000 + ?) WHERE n = ?",
                        arguments: [step % 50, (step * 7919) % 300])
                }
                return .commit
            }
            try db.execute(sql: "PRAGMA cache_size = -\(AppDatabase.cacheKiB)")
            return try String.fetchAll(db, sql: "SELECT n || ':' || hex(b) FROM t ORDER BY n")
        }
        #expect(written.count == 300 - 43)
        try expectAFreshConnectionReads(written, in: database)
    }

    /// A transaction that wrote pages to the WAL and then rolled back leaves frames that no commit
    /// covers, and another connection's next commit writes over them. They must be in the file
    /// before the first connection lets go of the WAL's write lock: written later, they would land
    /// on the other connection's committed frames. (SQLite's rollback reads pages back from the
    /// WAL, which writes the buffer out already; the VFS also does so when a WAL lock is released,
    /// so this holds whatever the rollback does.)
    @Test func framesOfARolledBackTransactionNeverLandOnAnotherConnectionsCommit() async throws {
        defer { try? FileManager.default.removeItem(at: directory) }
        let database = try AppDatabase.open(dataDirectory: directory)
        try await database.pool.writeWithoutTransaction { db in
            try db.execute(sql: "CREATE TABLE t (n INTEGER PRIMARY KEY, b BLOB); PRAGMA cache_size = 10")
            try db.inTransaction {
                for n in 0..<100 { try db.execute(sql: "INSERT INTO t VALUES (?, randomblob(1000))", arguments: [n]) }
                return .rollback
            }
            try db.execute(sql: "PRAGMA cache_size = -\(AppDatabase.cacheKiB)")
        }
        let other = try DatabaseQueue(path: database.url.path)
        let written = try await other.write { db in
            for n in 0..<20 { try db.execute(sql: "INSERT INTO t VALUES (?, randomblob(1000))", arguments: [n]) }
            return try String.fetchAll(db, sql: "SELECT n || ':' || hex(b) FROM t ORDER BY n")
        }
        try other.close()
        // The first connection reads (its WAL file included) and writes again.
        let read = try await database.pool.write { db in
            let rows = try String.fetchAll(db, sql: "SELECT n || ':' || hex(b) FROM t ORDER BY n")
            try db.execute(sql: "CREATE TABLE u (n INTEGER)")
            return rows
        }
        #expect(read == written)
        try expectAFreshConnectionReads(written, in: database)
    }

    /// A connection with `synchronous = OFF` never syncs at commit: what it gathered is written when
    /// it publishes the commit in the WAL index, so a reader that sees a commit can read all of it.
    @Test func aConnectionThatDoesNotSyncPublishesOnlyWhatIsInTheFile() async throws {
        defer { try? FileManager.default.removeItem(at: directory) }
        let database = try AppDatabase.open(dataDirectory: directory)
        try await database.pool.write { db in try db.execute(sql: "CREATE TABLE t (n INTEGER PRIMARY KEY, b BLOB)") }
        var configuration = Configuration()
        configuration.prepareDatabase { db in try db.execute(sql: "PRAGMA synchronous = OFF") }
        let unsynced = try DatabaseQueue(path: database.url.path, configuration: configuration)
        defer { try? unsynced.close() }

        let writer = Task.detached {
            for batch in 0..<60 {
                try await unsynced.write { db in
                    for n in 0..<30 {
                        try db.execute(
                            sql: "INSERT INTO t VALUES (?, randomblob(2008))", arguments: [batch * 30 + n])
                    }
                }
            }
        }
        var reads = 0
        var problems: [String] = []
        var count = 0
        let deadline = ContinuousClock.now + .seconds(60)
        while count < 1800, ContinuousClock.now < deadline {
            // Each commit adds 30 whole rows of 2,008 bytes: a reader sees whole commits or none.
            let (rows, bytes, newest) = try await database.pool.read { db in
                let row = try Row.fetchOne(db, sql: "SELECT count(*), coalesce(sum(length(b)), 0), max(n) FROM t")!
                return (row[0] as Int, row[1] as Int, row[2] as Int?)
            }
            count = rows
            reads += 1
            if rows % 30 != 0 || bytes != rows * 2008 || (newest ?? -1) != rows - 1 {
                problems.append("\(rows) rows, \(bytes) bytes, newest \(newest ?? -1)")
            }
        }
        try await writer.value
        #expect(problems.isEmpty)
        #expect(reads > 1)
        let written = try await database.pool.read { db in
            try String.fetchAll(db, sql: "SELECT n || ':' || hex(b) FROM t ORDER BY n")
        }
        #expect(written.count == 1800)
        try expectAFreshConnectionReads(written, in: database)
    }
}

import Foundation
import GRDB
import Testing

@testable import Storage

@Suite struct WALCheckpointerTests {
    let directory = FileManager.default.temporaryDirectory.appending(path: "hearth-wal-\(UUID().uuidString)")

    @Test func copiesWhatTheWriterCommittedAndPacesItselfByWhetherTheWALMoved() async throws {
        defer { try? FileManager.default.removeItem(at: directory) }
        let database = try AppDatabase.open(dataDirectory: directory)
        let checkpointer = try WALCheckpointer(database: database)
        for n in 0..<20 { try await database.write { try $0.setSetting("k\(n)", to: "v") } }

        let first = try await checkpointer.passive()
        #expect(first.walFrames > 0)
        #expect(first.checkpointed == first.walFrames)
        // The first paced call sees a WAL it has not seen; then nothing moves until a write.
        #expect(try await checkpointer.checkpoint() == WALCheckpointer.busyInterval)
        #expect(try await checkpointer.checkpoint() == WALCheckpointer.idleInterval)
        try await database.write { try $0.setSetting("k", to: "w") }
        #expect(try await checkpointer.checkpoint() == WALCheckpointer.busyInterval)
        #expect(try await database.read { try $0.setting("k") } == "w")
    }

    /// A passive checkpoint alone never catches up with a writer that never pauses; the
    /// writer's own checkpoint at `walBackstopPages` is what lets the WAL start over.
    @Test func theWALStaysBoundedWhileCheckpointsRunBesideAWriterThatNeverPauses() async throws {
        defer { try? FileManager.default.removeItem(at: directory) }
        let database = try AppDatabase.open(dataDirectory: directory)
        let checkpointer = try WALCheckpointer(database: database)
        let wal = database.url.path + "-wal"
        let pageSize = try await database.pool.write { db in
            try db.execute(sql: "CREATE TABLE filler (data BLOB)")
            return try Int.fetchOne(db, sql: "PRAGMA page_size") ?? 0
        }

        let checkpoints = Task {
            while !Task.isCancelled {
                _ = try? await checkpointer.passive()
                try? await Task.sleep(for: .milliseconds(5))
            }
        }
        defer { checkpoints.cancel() }
        // 64 KiB a commit is 17 pages: 1,000 commits put four times the backstop through the WAL.
        #expect(pageSize == 4_096)
        var largest = 0
        for _ in 0..<1_000 {
            try await database.pool.write { db in try db.execute(sql: "INSERT INTO filler VALUES (zeroblob(65536))") }
            let size = (try FileManager.default.attributesOfItem(atPath: wal)[.size] as? Int) ?? 0
            largest = max(largest, size)
        }
        checkpoints.cancel()
        let written = try await database.pool.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM filler") }
        #expect(written == 1_000)
        // The backstop, and half as much again for commits after it whose own checkpoint found
        // the background one holding the checkpoint lock; without the backstop this WAL takes
        // in all 17,000 pages (75 MB).
        let bound = AppDatabase.walBackstopPages * 3 / 2 * (pageSize + 24) + 32
        #expect(largest > 0)
        #expect(largest <= bound, "the WAL grew to \(largest) bytes (bound \(bound))")
    }

    /// A WAL that grew large (here one big transaction; on a server, writes during a long
    /// backup) goes back to at most `walKeptBytes` on disk once it starts over.
    @Test func aWALThatGrewPastTheKeptSizeShrinksWhenItStartsOver() async throws {
        defer { try? FileManager.default.removeItem(at: directory) }
        let database = try AppDatabase.open(dataDirectory: directory)
        let checkpointer = try WALCheckpointer(database: database)
        let wal = database.url.path + "-wal"
        func walSize() throws -> Int { (try FileManager.default.attributesOfItem(atPath: wal)[.size] as? Int) ?? 0 }
        let blobs = AppDatabase.walKeptBytes / 65_536 * 5 / 4
        try await database.pool.write { db in
            try db.execute(
                sql: """
                    CREATE TABLE filler (data BLOB);
                    WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < \(blobs))
                    INSERT INTO filler SELECT zeroblob(65536) FROM n;
                    """)
        }
        let grown = try walSize()
        #expect(grown > AppDatabase.walKeptBytes)

        // Once everything is copied, the next commit starts the WAL over and cuts the file down.
        let progress = try await checkpointer.passive()
        #expect(progress.checkpointed == progress.walFrames)
        try await database.write { try $0.setSetting("k", to: "v") }
        let kept = try walSize()
        #expect(kept <= AppDatabase.walKeptBytes, "the WAL stayed at \(kept) bytes after growing to \(grown)")
        #expect(try await database.read { try $0.setting("k") } == "v")
    }
}

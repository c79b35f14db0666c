import Foundation
import GRDB
import Synchronization

/// Folds the write-ahead log back into the database file from a connection of its own.
///
/// SQLite checkpoints the WAL inside the commit that grows it past a threshold: one message
/// commit in every few hundred also copies up to that many pages into the file and syncs it,
/// and every send queued behind it waits. That copy costs more as the database grows (new rows
/// land on more distinct index pages), so on a busy server live delivery got slower by the
/// minute. Repeated every ``busyInterval`` while the WAL grows, a `PASSIVE` checkpoint here
/// copies what the writer committed since the last one without blocking it, so the writer's
/// own checkpoint, kept at ``AppDatabase/walBackstopPages``, finds almost nothing left to copy.
/// That backstop is needed: a passive checkpoint never quite catches up with a writer that
/// never pauses, and SQLite rewinds the WAL to its start only after one has, so without the
/// writer's own checkpoint the WAL would grow without bound.
public final class WALCheckpointer: Sendable {
    /// The wait between checkpoints while the WAL grows: at 10,000 messages a second the
    /// writer adds about a hundred pages in this time.
    public static let busyInterval = Duration.milliseconds(20)
    /// The wait once a checkpoint found the WAL as the last one left it.
    public static let idleInterval = Duration.seconds(1)

    private let connection: DatabaseQueue
    private let lastFrames = Mutex<Int?>(nil)

    /// Opens the checkpointing connection on `database`'s file.
    public init(database: AppDatabase) throws {
        var configuration = Configuration()
        configuration.label = "hearth.checkpoint"
        configuration.prepareDatabase { db in
            // A checkpoint syncs the database file before the WAL may be reused: keep that.
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        do {
            connection = try DatabaseQueue(path: database.url.path, configuration: configuration)
        } catch {
            throw AppDatabase.mapped(error)
        }
    }

    /// One passive checkpoint, and how long to wait before the next: ``busyInterval`` when the
    /// WAL changed since the last one (or another connection was checkpointing it), else
    /// ``idleInterval``.
    public func checkpoint() async throws -> Duration {
        let progress: (walFrames: Int, checkpointed: Int)
        do {
            progress = try await passive()
        } catch StorageError.busy {
            return Self.busyInterval
        }
        let moved = lastFrames.withLock { last in
            defer { last = progress.walFrames }
            return last != progress.walFrames || progress.checkpointed < progress.walFrames
        }
        return moved ? Self.busyInterval : Self.idleInterval
    }

    /// One passive checkpoint: the WAL's frames, and how many of them are now in the file.
    func passive() async throws -> (walFrames: Int, checkpointed: Int) {
        do {
            let (wal, done) = try await connection.writeWithoutTransaction { db in try db.checkpoint(.passive) }
            return (wal, done)
        } catch {
            throw AppDatabase.mapped(error)
        }
    }
}

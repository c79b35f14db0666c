import Logging
import ServiceLifecycle
import Services
import Storage

/// A chore `serve` repeats until it stops: `work` runs, then the service waits as long as it said.
struct PeriodicService: Service {
    let work: @Sendable () async -> Duration

    /// Runs `work` every `interval`.
    init(interval: Duration, work: @escaping @Sendable () async -> Void) {
        self.work = {
            await work()
            return interval
        }
    }

    /// Runs `work`, which returns how long to wait before its next run.
    init(pacedBy work: @escaping @Sendable () async -> Duration) {
        self.work = work
    }

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                let wait = await work()
                try? await Task.sleep(for: wait)
            }
        }
    }

    /// Folds the WAL into the database file off the message writer's path, as often as
    /// ``WALCheckpointer/checkpoint()`` says; after a failure, which the writer's own checkpoint
    /// covers, it tries again in `retryAfterFailure`.
    static func checkpoints(
        _ checkpointer: WALCheckpointer, logger: Logger, retryAfterFailure: Duration = .seconds(10)
    ) -> PeriodicService {
        PeriodicService(pacedBy: {
            do {
                return try await checkpointer.checkpoint()
            } catch {
                logger.warning("WAL checkpoint failed", metadata: ["error": "\(error)"])
                return retryAfterFailure
            }
        })
    }

    /// About once a second: takes new messages into the search index, a batch at a time (off the
    /// message writer's transactions, which it would otherwise slow down).
    static func searchIndexing(rooms: Rooms, logger: Logger) -> PeriodicService {
        PeriodicService(pacedBy: {
            do {
                // A full batch means more wait (a backlog after a restore, say): go on soon.
                return try await rooms.indexForSearch() >= rooms.searchIndexBatch ? .milliseconds(20) : .seconds(1)
            } catch {
                logger.warning("search indexing failed", metadata: ["error": "\(error)"])
                return .seconds(10)
            }
        })
    }

    /// Every ten minutes: ends sessions past their idle or absolute lifetime (closing their
    /// sockets) and removes attachments that were uploaded but never shared.
    static func housekeeping(sessions: Sessions, attachments: Attachments) -> PeriodicService {
        PeriodicService(interval: .seconds(600)) {
            _ = try? await sessions.expireSessions()
            _ = try? await attachments.removeOrphans()
        }
    }
}

import ServiceLifecycle
import Services

/// Runs the scheduled backups inside `serve`: checks about once a minute whether one is due.
struct BackupService: Service {
    let backups: Backups

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                let wait = await backups.runScheduledIfDue()
                try? await Task.sleep(for: .seconds(max(1, wait)))
            }
        }
    }
}

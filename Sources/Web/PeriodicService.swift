import ServiceLifecycle
import Services

/// A chore `serve` repeats until it stops: `work` runs, then the service waits `interval`.
struct PeriodicService: Service {
    let interval: Duration
    let work: @Sendable () async -> Void

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                await work()
                try? await Task.sleep(for: interval)
            }
        }
    }

    /// Every ten minutes: ends sessions past their idle or absolute lifetime (closing their
    /// sockets) and removes attachments that were uploaded but never shared.
    static func housekeeping(accounts: Accounts, attachments: Attachments) -> PeriodicService {
        PeriodicService(interval: .seconds(600)) {
            _ = try? await accounts.expireSessions()
            _ = try? await attachments.removeOrphans()
        }
    }
}

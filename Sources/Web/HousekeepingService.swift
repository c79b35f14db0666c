import ServiceLifecycle
import Services

/// Periodic chores inside `serve`: removes attachments that were uploaded but never shared.
struct HousekeepingService: Service {
    let attachments: Attachments

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                _ = try? await attachments.removeOrphans()
                try? await Task.sleep(for: .seconds(600))
            }
        }
    }
}

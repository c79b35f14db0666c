import ServiceLifecycle
import Services
import UnixSignals

/// Keeps the relay's life in step with the server's.
///
/// On graceful shutdown it closes every socket with 1001 after its outbox is written, before the
/// HTTP server stops. On SIGUSR1 — sent by CLI commands that ended sessions in the database — it
/// closes the sockets whose sessions are gone. Every ``deliveredInterval`` it writes down which
/// messages reached which members (message info's "delivered").
struct RelayService: Service {
    let hub: RelayHub
    let relay: Relay
    /// How often delivered marks are written: off the message path, in one transaction.
    static let deliveredInterval: Duration = .seconds(10)

    func run() async throws {
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                for await _ in await UnixSignalsSequence(trapping: .sigusr1) {
                    hub.keepOnly(liveDeviceIDs: await relay.liveDeviceIDs(hub.connectedDeviceIDs()))
                }
            }
            group.addTask {
                while !Task.isCancelled {
                    try? await Task.sleep(for: Self.deliveredInterval)
                    await relay.recordDelivered(hub.takeDeliveredMarks())
                }
            }
            try? await gracefulShutdown()
            await hub.shutdown()
            await relay.recordDelivered(hub.takeDeliveredMarks())
            group.cancelAll()
        }
    }
}

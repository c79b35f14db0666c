import ServiceLifecycle
import Services

/// Sends the queued Web Push messages for as long as the server runs.
struct PushService: Service {
    let delivery: PushDelivery

    func run() async throws {
        await cancelWhenGracefulShutdown {
            await delivery.run()
        }
    }
}

/// Sends the queued outgoing webhook deliveries for as long as the server runs.
struct WebhookDeliveryService: Service {
    let webhooks: OutgoingWebhooks

    func run() async throws {
        await cancelWhenGracefulShutdown {
            await webhooks.runDeliveries()
        }
    }
}

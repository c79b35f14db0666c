import Foundation
import Logging
import Storage
import Synchronization
import WebPush

/// Sends the queued pushes (RFC 8030) until its task is cancelled: a persistent queue in SQLite,
/// so a restart loses none within its time to live.
///
/// Each push is composed when it goes (``PushPayload``), encrypted for its subscription (RFC
/// 8291) and signed (RFC 8292). A `2xx` removes it; `404` or `410` remove the subscription (the
/// browser dropped it); `429` and `5xx`, a timeout or an unreadable answer try again later, with
/// exponential backoff that honours `Retry-After`; any other answer drops the push. Refusals are
/// logged at most once per endpoint per hour.
public final class PushDelivery: ContextualService {
    let context: ServiceContext
    let settings: HearthConfiguration.PushSettings
    let signal: PushSignal
    let publicURL: @Sendable () async -> String
    /// When each subscription's trouble was last logged (ms).
    private let lastLogged = Mutex<[Int64: Int64]>([:])

    /// The first retry's delay; each further one doubles it, up to ``longestBackoff``.
    static let firstBackoff: Int64 = 5_000
    static let longestBackoff: Int64 = 3_600_000
    static let logInterval: Int64 = 3_600_000

    init(
        context: ServiceContext, settings: HearthConfiguration.PushSettings, signal: PushSignal,
        publicURL: @escaping @Sendable () async -> String
    ) {
        self.context = context
        self.settings = settings
        self.signal = signal
        self.publicURL = publicURL
    }

    /// Delivers until cancelled.
    public func run() async {
        let client = PushClient(timeout: .milliseconds(Int64(settings.timeout * 1000)))
        while !Task.isCancelled {
            let next = await deliverDue(client)
            await signal.wait(timeout: next)
        }
        try? await client.shutdown()
    }

    /// Sends everything due now, `concurrency` at a time; returns how long until the next is due.
    func deliverDue(_ client: PushClient) async -> Duration {
        while !Task.isCancelled {
            let now = now
            let batchSize = settings.concurrency * 4
            let due: [QueuedPush]
            do {
                due = try await database.write { try $0.duePushes(now: now, limit: batchSize) }
            } catch {
                logger.error("push queue unreadable", metadata: ["error": "\(error)"])
                return .seconds(30)
            }
            if due.isEmpty { break }
            guard let key = try? await database.write({ try Push.vapidKey($0) }) else { return .seconds(30) }
            let subject = await subject()
            await withTaskGroup(of: Void.self) { group in
                var pending = due[...]
                for _ in 0..<settings.concurrency {
                    guard let push = pending.popFirst() else { break }
                    group.addTask { await self.deliver(push, key: key, subject: subject, client: client) }
                }
                while await group.next() != nil {
                    if let push = pending.popFirst() {
                        group.addTask { await self.deliver(push, key: key, subject: subject, client: client) }
                    }
                }
            }
            if due.count < batchSize { break }
        }
        let next = try? await database.read { try $0.nextPushDue() }
        guard let next = next ?? nil else { return .seconds(3600) }
        return .milliseconds(max(10, min(3_600_000, next - now)))
    }

    /// Whom push services may contact (VAPID `sub`).
    func subject() async -> String {
        if let subject = settings.subject { return subject }
        let url = await publicURL()
        return url.hasPrefix("https://") ? url : "mailto:hearth@localhost"
    }

    private func deliver(_ push: QueuedPush, key: VAPIDKey, subject: String, client: PushClient) async {
        let date = clock()
        let serverPreview = settings.preview
        let composed: (PushSubscription, PushPayload?)?
        do {
            composed = try await database.read { store in
                guard let subscription = try store.pushSubscription(id: push.subscriptionID) else { return nil }
                let preview = try Push.serverPreview(store, default: serverPreview)
                return (
                    subscription,
                    try PushPayload.compose(
                        push, userID: subscription.userID, store: store, serverPreview: preview, now: date)
                )
            }
        } catch {
            logger.error("push not composed", metadata: ["error": "\(error)"])
            await retry(push, after: nil)
            return
        }
        guard let (subscription, payload) = composed, let payload else {
            await finish(push)
            return
        }
        let response: PushResponse
        do {
            let keys = try PushSubscriberKeys(p256dh: subscription.p256dh, auth: subscription.auth)
            let body = try PushEncryption.encrypt(
                payload.encoded(limit: PushEncryption.maximumPlaintext), to: keys)
            let endpoint = try PushEndpoint.check(subscription.endpoint, allowLoopbackHTTP: settings.allowLoopbackHTTP)
            let message = PushMessage(
                endpoint: endpoint, body: body,
                timeToLive: max(0, Int((push.expiresAt - date.epochMilliseconds) / 1000)),
                urgency: push.urgency == "high" ? .high : .normal, topic: push.topic)
            response = try await client.send(message, vapid: key, subject: subject, now: date)
        } catch let error as WebPushError {
            await fail(push, subscription, "\(error)", retry: false)
            return
        } catch {
            await fail(push, subscription, "no answer: \(error)", retry: true)
            return
        }
        switch response.status {
        case 200..<300:
            await succeed(push, subscription)
        case 404, 410:
            logger.info(
                "push subscription gone",
                metadata: ["subscription": "\(subscription.id)", "status": "\(response.status)"])
            _ = try? await database.write { try $0.deletePushSubscription(id: subscription.id) }
        case 429, 500..<600:
            await fail(
                push, subscription, "\(response.status) \(response.detail)", retry: true,
                retryAfter: response.retryAfter)
        default:
            await fail(push, subscription, "\(response.status) \(response.detail)", retry: false)
        }
    }

    private func succeed(_ push: QueuedPush, _ subscription: PushSubscription) async {
        let now = now
        _ = try? await database.write { store in
            try store.finishPush(id: push.id, version: push.version)
            try store.recordPushSuccess(subscriptionID: subscription.id, now: now)
        }
    }

    private func finish(_ push: QueuedPush) async {
        _ = try? await database.write { try $0.finishPush(id: push.id, version: push.version) }
    }

    private func fail(
        _ push: QueuedPush, _ subscription: PushSubscription, _ error: String, retry again: Bool, retryAfter: Int? = nil
    ) async {
        let now = now
        let shouldLog = lastLogged.withLock { logged in
            guard now - (logged[subscription.id] ?? 0) >= Self.logInterval else { return false }
            logged[subscription.id] = now
            return true
        }
        if shouldLog {
            logger.warning(
                "push refused",
                metadata: ["subscription": "\(subscription.id)", "error": "\(error.prefix(200))", "retry": "\(again)"])
        }
        _ = try? await database.write { store in
            try store.recordPushError(subscriptionID: subscription.id, error: error, now: now)
        }
        if again {
            await retry(push, after: retryAfter)
        } else {
            await finish(push)
        }
    }

    /// Tries `push` again after its backoff, or `Retry-After` seconds if longer.
    private func retry(_ push: QueuedPush, after retryAfter: Int?) async {
        let backoff = min(Self.longestBackoff, Self.firstBackoff << min(push.attempts, 20))
        let delay = max(backoff + Int64.random(in: 0...(backoff / 4)), Int64(retryAfter ?? 0) * 1000)
        let at = now + delay
        _ = try? await database.write { try $0.retryPush(id: push.id, version: push.version, at: at) }
    }
}

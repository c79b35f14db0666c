import Foundation
import Logging
import Storage
import Synchronization
import WebPush

/// Sends the queued pushes (RFC 8030) until its task is cancelled: a persistent queue in SQLite,
/// so a restart loses none within its time to live.
///
/// It works in batches: one read transaction takes what is due and composes each push
/// (``PushPayload``, from the message as it is now and its user's choices, read once per user),
/// the pushes are encrypted (RFC 8291), signed (RFC 8292, one VAPID header per push service for
/// hours) and sent, `concurrency` at a time, and one write transaction records what came of
/// them. A `2xx` removes the push; `404` or `410` remove the subscription (the browser dropped
/// it); `429` and `5xx`, a timeout or an unreadable answer try again later, with exponential
/// backoff that honours `Retry-After`; any other answer drops the push. Refusals are logged at
/// most once per subscription per hour.
public final class PushDelivery: ContextualService {
    let context: ServiceContext
    let settings: HearthConfiguration.PushSettings
    let signal: WakeSignal
    let publicURL: @Sendable () async -> String
    /// When each subscription's trouble was last logged (ms).
    private let lastLogged = Mutex<[Int64: Int64]>([:])
    /// VAPID headers by key and push service origin, with when they expire.
    private let headers = Mutex<[String: (value: String, expires: Date)]>([:])
    /// Subscriptions' keys and endpoints as parsed (a point on the curve checked, a URL read: 50 µs
    /// a push otherwise), by subscription, with the text they came from; at most ``keyCacheSize``.
    private let parsed = Mutex<[Int64: (text: String, keys: PushSubscriberKeys, endpoint: URL)]>([:])
    static let keyCacheSize = 10_000

    /// The first retry's delay; each further one doubles it, up to ``longestBackoff``.
    static let firstBackoff: Int64 = 5_000
    static let longestBackoff: Int64 = 3_600_000
    static let logInterval: Int64 = 3_600_000
    /// How long a VAPID header is signed for (RFC 8292 allows 24 hours), and how much of that
    /// must be left for it to be used again.
    static let headerLifetime: TimeInterval = 12 * 3600
    static let headerMargin: TimeInterval = 3600

    init(
        context: ServiceContext, settings: HearthConfiguration.PushSettings, signal: WakeSignal,
        publicURL: @escaping @Sendable () async -> String
    ) {
        self.context = context
        self.settings = settings
        self.signal = signal
        self.publicURL = publicURL
    }

    /// How long a wake-up waits for more pushes before it sends: pushes that arrive together go
    /// in one batch (one read and one write of the database for them all), at the cost of this
    /// much delay.
    static let linger: Duration = .milliseconds(50)

    /// Delivers until cancelled.
    public func run() async {
        let client = PushClient(timeout: .milliseconds(Int64(settings.timeout * 1000)))
        while !Task.isCancelled {
            let next = await deliverDue(client)
            await signal.wait(timeout: next)
            try? await Task.sleep(for: Self.linger)
        }
        try? await client.shutdown()
    }

    /// A push made ready to go, or the reason it will not.
    struct Ready: Sendable {
        let push: QueuedPush
        let subscription: PushSubscription?
        let payload: PushPayload?
    }

    /// What came of one push.
    enum Result: Sendable {
        case delivered(QueuedPush, subscriptionID: Int64)
        /// Nothing to send (the message went, was read, or quiet hours), or a refusal for good.
        case dropped(QueuedPush, subscriptionID: Int64?, error: String?)
        case retry(QueuedPush, subscriptionID: Int64?, error: String, after: Int?)
        case gone(subscriptionID: Int64)
    }

    /// Sends everything due now, a batch at a time; returns how long until the next is due.
    func deliverDue(_ client: PushClient) async -> Duration {
        let batchSize = settings.concurrency * 8
        while !Task.isCancelled {
            let date = clock()
            let serverPreview = settings.preview
            let ready: [Ready]
            let key: VAPIDKey
            do {
                key = try await Push.vapidKey(database)
                ready = try await database.read { store in
                    let preview = try Push.serverPreview(store, default: serverPreview)
                    var readers: [Int64: PushPayload.Reader] = [:]
                    return try store.duePushes(now: date.epochMilliseconds, limit: batchSize).map { push in
                        guard let subscription = try store.pushSubscription(id: push.subscriptionID) else {
                            return Ready(push: push, subscription: nil, payload: nil)
                        }
                        let reader =
                            try readers[subscription.userID]
                            ?? PushPayload.Reader(userID: subscription.userID, store: store)
                        readers[subscription.userID] = reader
                        return Ready(
                            push: push, subscription: subscription,
                            payload: try PushPayload.compose(
                                push, for: reader, store: store, serverPreview: preview, now: date))
                    }
                }
            } catch {
                logger.error("push queue unreadable", metadata: ["error": "\(error)"])
                return .seconds(30)
            }
            if ready.isEmpty { break }
            let subject = await subject()
            var results: [Result] = []
            await withTaskGroup(of: Result.self) { group in
                var pending = ready[...]
                for _ in 0..<settings.concurrency {
                    guard let item = pending.popFirst() else { break }
                    group.addTask { await self.send(item, key: key, subject: subject, client: client) }
                }
                while let result = await group.next() {
                    results.append(result)
                    if let item = pending.popFirst() {
                        group.addTask { await self.send(item, key: key, subject: subject, client: client) }
                    }
                }
            }
            await record(results)
            if ready.count < batchSize { break }
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

    /// The VAPID header for `endpoint`'s push service: signed once, then reused for hours.
    private func authorization(_ key: VAPIDKey, for endpoint: URL, subject: String, now: Date) throws -> String {
        let name = key.publicKey + "|" + (VAPIDKey.origin(of: endpoint) ?? "") + "|" + subject
        if let cached = headers.withLock({ $0[name] }),
            cached.expires.timeIntervalSince(now) > Self.headerMargin
        {
            return cached.value
        }
        let expires = now.addingTimeInterval(Self.headerLifetime)
        let value = try key.authorization(for: endpoint, subject: subject, expiresAt: expires)
        headers.withLock { $0[name] = (value, expires) }
        return value
    }

    /// A subscription's keys and endpoint, parsed once.
    private func parse(_ subscription: PushSubscription) throws(WebPushError) -> (PushSubscriberKeys, URL) {
        let text = subscription.endpoint + " " + subscription.p256dh + " " + subscription.auth
        if let cached = parsed.withLock({ $0[subscription.id] }), cached.text == text {
            return (cached.keys, cached.endpoint)
        }
        let keys = try PushSubscriberKeys(p256dh: subscription.p256dh, auth: subscription.auth)
        let endpoint = try PushEndpoint.check(subscription.endpoint, allowLoopbackHTTP: settings.allowLoopbackHTTP)
        parsed.withLock { cache in
            if cache.count >= Self.keyCacheSize { cache.removeAll(keepingCapacity: true) }
            cache[subscription.id] = (text, keys, endpoint)
        }
        return (keys, endpoint)
    }

    private func send(_ item: Ready, key: VAPIDKey, subject: String, client: PushClient) async -> Result {
        let push = item.push
        guard let subscription = item.subscription, let payload = item.payload else {
            return .dropped(push, subscriptionID: item.subscription?.id, error: nil)
        }
        let date = clock()
        do {
            let (keys, endpoint) = try parse(subscription)
            let body = try PushEncryption.encrypt(payload.encoded(limit: PushEncryption.maximumPlaintext), to: keys)
            let message = PushMessage(
                endpoint: endpoint, body: body,
                timeToLive: max(0, Int((push.expiresAt - date.epochMilliseconds) / 1000)),
                urgency: push.urgency == "high" ? .high : .normal, topic: push.topic)
            let response = try await client.send(
                message, authorization: authorization(key, for: endpoint, subject: subject, now: date), now: date)
            switch response.status {
            case 200..<300:
                return .delivered(push, subscriptionID: subscription.id)
            case 404, 410:
                logger.info(
                    "push subscription gone",
                    metadata: ["subscription": "\(subscription.id)", "status": "\(response.status)"])
                return .gone(subscriptionID: subscription.id)
            case 429, 500..<600:
                return .retry(
                    push, subscriptionID: subscription.id, error: "\(response.status) \(response.detail)",
                    after: response.retryAfter)
            default:
                return .dropped(push, subscriptionID: subscription.id, error: "\(response.status) \(response.detail)")
            }
        } catch let error as WebPushError {
            return .dropped(push, subscriptionID: subscription.id, error: "\(error)")
        } catch {
            return .retry(push, subscriptionID: subscription.id, error: "no answer: \(error)", after: nil)
        }
    }

    /// Records what came of a batch in one transaction, and logs each subscription's trouble at
    /// most once an hour.
    private func record(_ results: [Result]) async {
        let now = now
        for result in results {
            if case .delivered = result { metrics.pushesSent.increment() } else { metrics.pushFailures.increment() }
        }
        for case let (subscription?, error?, again) in results.map(Self.trouble) {
            let shouldLog = lastLogged.withLock { logged in
                guard now - (logged[subscription] ?? 0) >= Self.logInterval else { return false }
                logged[subscription] = now
                return true
            }
            if shouldLog {
                logger.warning(
                    "push refused",
                    metadata: ["subscription": "\(subscription)", "error": "\(error.prefix(200))", "retry": "\(again)"])
            }
        }
        do {
            try await database.write { store in
                try store.deleteExpiredPushes(now: now)
                for result in results {
                    switch result {
                    case .delivered(let push, let subscription):
                        try store.finishPush(id: push.id, version: push.version)
                        try store.recordPushSuccess(subscriptionID: subscription, now: now)
                    case .dropped(let push, let subscription, let error):
                        try store.finishPush(id: push.id, version: push.version)
                        if let subscription, let error {
                            try store.recordPushError(subscriptionID: subscription, error: error, now: now)
                        }
                    case .retry(let push, let subscription, let error, let retryAfter):
                        let backoff = min(Self.longestBackoff, Self.firstBackoff << min(push.attempts, 20))
                        let delay = max(backoff + Int64.random(in: 0...(backoff / 4)), Int64(retryAfter ?? 0) * 1000)
                        try store.retryPush(id: push.id, version: push.version, at: now + delay)
                        if let subscription {
                            try store.recordPushError(subscriptionID: subscription, error: error, now: now)
                        }
                    case .gone(let subscription):
                        try store.deletePushSubscription(id: subscription)
                    }
                }
            }
        } catch {
            logger.error("push results not recorded", metadata: ["error": "\(error)"])
        }
    }

    /// A result's subscription, error and whether it is tried again, for the log.
    static func trouble(_ result: Result) -> (Int64?, String?, Bool) {
        switch result {
        case .dropped(_, let subscription, let error): (subscription, error, false)
        case .retry(_, let subscription, let error, _): (subscription, error, true)
        default: (nil, nil, false)
        }
    }
}

import AsyncHTTPClient
import Credentials
import Crypto
import Foundation
import NIOCore
import NIOHTTP1
import Storage
import Synchronization

/// Queues outgoing webhook deliveries for what the message writer just stored, inside the same
/// transaction. The rooms that have a hook are kept in memory, so a message in any other room
/// costs one set lookup.
final class OutgoingPlanner: Sendable {
    private let rooms = Mutex<Set<Int64>>([])
    /// Called after a commit that queued deliveries: the sender wakes up.
    let wakeUp = WakeSignal()

    /// Reads which rooms have hooks (at start, and after one is removed).
    func load(_ store: Store) throws {
        let found = try store.roomsWithOutgoingWebhooks()
        rooms.withLock { $0 = found }
    }

    func add(roomID: Int64) {
        rooms.withLock { _ = $0.insert(roomID) }
    }

    /// Queues a delivery of `message` to each hook of its room that wants it; how many.
    func plan(_ message: Message, store: Store, now: Int64) throws -> Int {
        guard rooms.withLock({ $0.contains(message.roomID) }), !message.system, let senderID = message.senderID
        else { return 0 }
        let (hooks, sender, room) = try store.outgoingTargets(roomID: message.roomID, senderID: senderID)
        guard !hooks.isEmpty, let sender, !sender.bot else { return 0 }
        let command = OutgoingPayload.Command(message.body)
        var queued = 0
        for hook in hooks where !hook.commandsOnly || command != nil {
            let payload = OutgoingPayload(
                hook: hook, room: room, message: message, sender: sender, command: command)
            try store.enqueueWebhookDelivery(
                hookID: hook.id, seq: message.seq, payload: try payload.encoded(), now: now)
            queued += 1
        }
        return queued
    }
}

/// What an outgoing webhook POSTs for a message (docs/ADMIN.md, *Outgoing webhooks*).
struct OutgoingPayload: Encodable {
    struct Hook: Encodable {
        let id: Int64
        let name: String
    }

    struct Room: Encodable {
        let id: Int64
        let name: String?
        let kind: String
    }

    struct Sender: Encodable {
        let id: Int64
        let username: String
        let displayName: String?
    }

    struct File: Encodable {
        let id: String
        let name: String?
        let contentType: String
        let size: Int64
    }

    struct Body: Encodable {
        let seq: Int64
        let from: Sender
        let body: String
        let sentAt: Int64
        let replyTo: Int64?
        let attachments: [File]
    }

    /// A message that starts with `/`: its first word without the slash, and the rest.
    struct Command: Encodable, Equatable {
        let name: String
        let args: String

        init?(_ body: String) {
            let text = body.trimmingCharacters(in: .whitespacesAndNewlines)
            guard text.hasPrefix("/"), text.count > 1 else { return nil }
            let word = text.dropFirst().prefix { !$0.isWhitespace }
            guard !word.isEmpty else { return nil }
            name = String(word)
            args = text.dropFirst(1 + word.count).trimmingCharacters(in: .whitespacesAndNewlines)
        }
    }

    let event = "message"
    let webhook: Hook
    let room: Room
    let message: Body
    let command: Command?
    /// The text again, where Slack-minded receivers look for it.
    let text: String

    init(hook: OutgoingWebhook, room: Storage.Room?, message: Message, sender: User, command: Command?) {
        webhook = Hook(id: hook.id, name: hook.name)
        self.room = Room(id: message.roomID, name: room?.name, kind: room?.kind.rawValue ?? "group")
        self.message = Body(
            seq: message.seq,
            from: Sender(id: sender.id, username: sender.username, displayName: sender.displayName),
            body: message.body, sentAt: message.createdAt, replyTo: message.replyTo?.seq,
            attachments: message.attachments.map {
                File(id: $0.id, name: $0.name, contentType: $0.contentType, size: $0.size)
            })
        self.command = command
        text = message.body
    }

    func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(self)
    }
}

extension OutgoingWebhooks {
    /// The headers that sign a delivery: `X-Hearth-Timestamp` (Unix seconds) and
    /// `X-Hearth-Signature: sha256=HEX`, the HMAC-SHA256 of `TIMESTAMP.BODY` keyed with the hook's
    /// secret, as Stripe and GitHub sign theirs.
    static func signature(secret: String, timestamp: Int64, body: Data) -> String {
        var signed = Data("\(timestamp).".utf8)
        signed.append(body)
        let mac = HMAC<SHA256>.authenticationCode(for: signed, using: SymmetricKey(data: Data(secret.utf8)))
        return "sha256=" + Array(mac).hexString
    }

    /// What came of one try.
    struct Attempt: Sendable {
        let id: Int64
        let state: WebhookDelivery.State
        let status: Int?
        let latencyMs: Int?
        let error: String?
        let retryAt: Int64?
    }

    /// How long a wake-up waits for more deliveries before it sends: messages that come together
    /// go in one batch (one read and one write of the database for them all).
    static let linger: Duration = .milliseconds(20)

    /// Sends the queued deliveries until its task is cancelled.
    public func runDeliveries() async {
        var configuration = HTTPClient.Configuration(
            redirectConfiguration: .disallow,
            timeout: .init(
                connect: .milliseconds(Int64(settings.timeout * 1000)),
                read: .milliseconds(Int64(settings.timeout * 1000))))
        configuration.decompression = .disabled
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        while !Task.isCancelled {
            let next = await deliverDue(client)
            await planner.wakeUp.wait(timeout: next)
            try? await Task.sleep(for: Self.linger)
        }
        try? await client.shutdown()
    }

    /// Sends what is due, `concurrency` at a time, and records what came of it in one
    /// transaction: how long until more is due.
    func deliverDue(_ client: HTTPClient) async -> Duration {
        let batchSize = 64
        let now = now
        guard let due = try? await database.read({ try $0.dueWebhookDeliveries(now: now, limit: batchSize) }) else {
            return .seconds(5)
        }
        pruneLog(now: now)
        if due.isEmpty {
            let next = (try? await database.read { try $0.nextWebhookDeliveryDue() }) ?? nil
            guard let next else { return .seconds(60) }
            return .milliseconds(max(10, min(60_000, next - now)))
        }
        let allowed = (try? await allowedPrivate()) ?? settings.allowPrivate
        let concurrency = max(1, settings.concurrency)
        var attempts: [Attempt] = []
        await withTaskGroup(of: Attempt.self) { group in
            var running = 0
            for (delivery, hook) in due {
                if running == concurrency, let done = await group.next() {
                    attempts.append(done)
                    running -= 1
                }
                group.addTask { await self.attempt(delivery, to: hook, allowed: allowed, client: client) }
                running += 1
            }
            for await done in group { attempts.append(done) }
        }
        let finishedAt = self.now
        do {
            try await database.write { [attempts] store in
                for attempt in attempts {
                    try store.recordWebhookAttempt(
                        id: attempt.id, state: attempt.state, status: attempt.status, latencyMs: attempt.latencyMs,
                        error: attempt.error, retryAt: attempt.retryAt, now: finishedAt)
                }
            }
        } catch {
            logger.error("webhook deliveries not recorded", metadata: ["error": "\(error)"])
        }
        for attempt in attempts {
            switch attempt.state {
            case .delivered: metrics.webhooksDelivered.increment()
            case .pending: metrics.webhooksRetried.increment()
            case .failed:
                metrics.webhooksFailed.increment()
                logger.warning(
                    "webhook delivery given up",
                    metadata: ["delivery": "\(attempt.id)", "error": "\(attempt.error?.prefix(200) ?? "")"])
            }
        }
        return due.count == batchSize ? .zero : .milliseconds(10)
    }

    /// One try of one delivery: the address checked again, the payload signed and POSTed.
    func attempt(
        _ delivery: WebhookDelivery, to hook: OutgoingWebhook, allowed: [String], client: HTTPClient
    ) async -> Attempt {
        func done(_ state: WebhookDelivery.State, status: Int? = nil, latency: Int? = nil, _ error: String?) -> Attempt
        {
            Attempt(id: delivery.id, state: state, status: status, latencyMs: latency, error: error, retryAt: nil)
        }
        func again(status: Int? = nil, latency: Int? = nil, _ error: String) -> Attempt {
            let tries = delivery.attempts + 1
            guard tries < settings.attempts else {
                return done(.failed, status: status, latency: latency, "Gave up after \(tries) tries: \(error)")
            }
            let delay = min(Self.longestRetry, settings.firstRetry * pow(4, Double(tries - 1)))
            let jitter = Double.random(in: 0...(delay / 10))
            return Attempt(
                id: delivery.id, state: .pending, status: status, latencyMs: latency, error: error,
                retryAt: now + Int64((delay + jitter) * 1000))
        }
        guard let payload = delivery.payload else { return done(.failed, "Nothing to send.") }
        let url: URL
        do {
            url = try await AddressPolicy.check(hook.url, allowed: allowed)
        } catch {
            return done(.failed, ServiceError.translating(error).message)
        }
        let timestamp = Int64(clock().timeIntervalSince1970)
        var request = HTTPClientRequest(url: url.absoluteString)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "User-Agent", value: "Hearth-Webhook/1")
        request.headers.add(name: "X-Hearth-Event", value: "message")
        request.headers.add(name: "X-Hearth-Delivery", value: String(delivery.id))
        request.headers.add(name: "X-Hearth-Timestamp", value: String(timestamp))
        request.headers.add(
            name: "X-Hearth-Signature", value: Self.signature(secret: hook.secret, timestamp: timestamp, body: payload))
        request.body = .bytes(ByteBuffer(bytes: payload))
        let started = DispatchTime.now().uptimeNanoseconds
        do {
            let response = try await client.execute(request, timeout: .milliseconds(Int64(settings.timeout * 1000)))
            let answer = (try? await response.body.collect(upTo: 64 * 1024)).map { String(buffer: $0) } ?? ""
            let latency = Int((DispatchTime.now().uptimeNanoseconds - started) / 1_000_000)
            let status = Int(response.status.code)
            let excerpt = answer.trimmingCharacters(in: .whitespacesAndNewlines).prefix(200)
            let said = excerpt.isEmpty ? "" : ": \(excerpt)"
            switch status {
            case 200..<300:
                return done(.delivered, status: status, latency: latency, nil)
            case 300..<400:
                let location = response.headers.first(name: "Location").map { " to \($0)" } ?? ""
                return done(
                    .failed, status: status, latency: latency,
                    "Answered \(status), a redirect\(location); redirects are not followed.")
            case 408, 425, 429, 500..<600:
                return again(status: status, latency: latency, "Answered \(status)\(said)")
            default:
                return done(.failed, status: status, latency: latency, "Answered \(status)\(said)")
            }
        } catch {
            let latency = Int((DispatchTime.now().uptimeNanoseconds - started) / 1_000_000)
            return again(latency: latency, "No answer: \(error)")
        }
    }

    /// Drops finished deliveries older than a week from the log, at most once an hour.
    private func pruneLog(now: Int64) {
        let due = lastPruned.withLock { last in
            guard now - last >= 3_600_000 else { return false }
            last = now
            return true
        }
        guard due else { return }
        let before = now - Self.logLifetime
        Task { try? await database.write { try $0.pruneWebhookDeliveries(finishedBefore: before) } }
    }
}

import Foundation
import Logging
import Storage
import Synchronization

/// Decides which devices get a push for what was just committed, inside the same transaction —
/// so a push is queued exactly when its message is stored, and a crash loses neither.
///
/// A device gets one only when it has a subscription and no socket open (one with a socket sees
/// the message live). Muted rooms push only mentions. The check that costs nothing when nobody
/// subscribed comes first: the set of users with a subscription is kept in memory (it may name
/// someone whose subscriptions have since gone; that costs one query, never a wrong push).
final class PushPlanner: Sendable {
    private let subscribers = Mutex<Set<Int64>>([])
    private let live: any LiveEvents
    private let settings: HearthConfiguration.PushSettings
    private let logger: Logging.Logger
    /// Called after a commit that queued pushes: the delivery wakes up.
    let wakeUp = WakeSignal()

    init(live: any LiveEvents, settings: HearthConfiguration.PushSettings, logger: Logging.Logger) {
        self.live = live
        self.settings = settings
        self.logger = logger
    }

    /// Reads who has subscriptions; once, at start.
    func load(_ store: Store) throws {
        let ids = try store.pushSubscriberIDs()
        subscribers.withLock { $0 = ids }
    }

    func subscribed(userID: Int64) {
        subscribers.withLock { _ = $0.insert(userID) }
    }

    func forgetAll() {
        subscribers.withLock { $0.removeAll() }
    }

    /// What one transaction queued, and how long the queue is (read once, at its first push).
    struct Batch {
        var queued = 0
        var waiting: Int?
    }

    /// What a message published to `members` queues: a push to each offline, subscribed device of
    /// the others (high urgency in a direct chat or for a mention).
    func planMessage(_ message: Message, members: [Int64], store: Store, now: Int64, batch: inout Batch) throws {
        guard !message.system, let senderID = message.senderID else { return }
        let known = subscribers.withLock { $0 }
        guard members.contains(where: { $0 != senderID && known.contains($0) }) else { return }
        let recipients = try offline(store.pushRecipients(roomID: message.roomID, exceptUserID: senderID))
        guard !recipients.isEmpty else { return }
        let direct = try store.roomKind(id: message.roomID) == "direct"
        for recipient in recipients {
            let mention = message.mentions.contains(recipient.username.lowercased())
            if let muted = recipient.mutedUntil, muted > now, !mention { continue }
            try enqueue(
                QueuedPush(
                    subscriptionID: recipient.subscriptionID, topic: Self.topic(room: message.roomID),
                    kind: mention ? .mention : .message, roomID: message.roomID, seq: message.seq, actorID: senderID,
                    emoji: nil, urgency: direct || mention ? "high" : "normal", createdAt: now,
                    expiresAt: now + Int64(settings.timeToLive * 1000)), store: store, batch: &batch)
        }
    }

    /// A reaction added to someone's message: a push to the message's sender's offline devices.
    func planReaction(_ event: MessageEvent, store: Store, now: Int64, batch: inout Batch) throws {
        guard event.kind == .reaction, event.added == true, let reactor = event.username,
            subscribers.withLock({ !$0.isEmpty }),
            let target = try store.changeTarget(roomID: event.roomID, seq: event.messageSeq),
            let authorID = target.senderID, target.senderName != reactor,
            subscribers.withLock({ $0.contains(authorID) })
        else { return }
        let recipients = try offline(store.pushRecipients(userID: authorID, roomID: event.roomID)).filter {
            ($0.mutedUntil ?? 0) <= now
        }
        guard !recipients.isEmpty, let actor = try store.user(named: reactor) else { return }
        for recipient in recipients {
            try enqueue(
                QueuedPush(
                    subscriptionID: recipient.subscriptionID, topic: "reaction-\(event.roomID)", kind: .reaction,
                    roomID: event.roomID, seq: event.messageSeq, actorID: actor.id, emoji: event.emoji,
                    urgency: "normal", createdAt: now, expiresAt: now + Int64(settings.timeToLive * 1000)),
                store: store, batch: &batch)
        }
    }

    /// A new device asks to be linked: a push to the user's offline devices that can approve it.
    func planLinkRequest(userID: Int64, newDeviceID: Int64, store: Store, now: Int64) throws -> Int {
        guard subscribers.withLock({ $0.contains(userID) }) else { return 0 }
        var batch = Batch()
        for recipient in try offline(store.pushRecipients(userID: userID)) where recipient.deviceID != newDeviceID {
            try enqueue(
                QueuedPush(
                    subscriptionID: recipient.subscriptionID, topic: "link", kind: .link, roomID: nil, seq: nil,
                    actorID: nil, emoji: nil, urgency: "high", createdAt: now,
                    expiresAt: now + Int64(min(settings.timeToLive, 600) * 1000)), store: store, batch: &batch)
        }
        return batch.queued
    }

    /// Whether any of `userIDs` may have a push subscription (nobody else needs a transaction).
    func mayPush(_ userIDs: Set<Int64>) -> Bool {
        subscribers.withLock { !$0.isDisjoint(with: userIDs) }
    }

    /// A ring: a high-urgency push to each offline, subscribed device of the `called` users, that
    /// lives as long as the ring does. A room muted by the one called does not ring them.
    func planRing(
        roomID: Int64, callerID: Int64, video: Bool, called: Set<Int64>, ringsFor seconds: TimeInterval, store: Store,
        now: Int64
    ) throws -> Int {
        let known = subscribers.withLock { $0 }
        var batch = Batch()
        for userID in called where known.contains(userID) {
            for recipient in try offline(store.pushRecipients(userID: userID, roomID: roomID)) {
                if let muted = recipient.mutedUntil, muted > now { continue }
                try enqueue(
                    QueuedPush(
                        subscriptionID: recipient.subscriptionID, topic: "call-\(roomID)", kind: .call, roomID: roomID,
                        seq: nil, actorID: callerID, emoji: video ? "📹" : "📞", urgency: "high", createdAt: now,
                        expiresAt: now + Int64(min(settings.timeToLive, seconds) * 1000)), store: store, batch: &batch)
            }
        }
        return batch.queued
    }

    /// What a room's message notifications replace one another by (RFC 8030 §5.4); reactions
    /// have their own (`reaction-ID`), so one never hides a message not seen yet.
    static func topic(room: Int64) -> String { "room-\(room)" }

    private func offline(_ recipients: [PushRecipient]) -> [PushRecipient] {
        guard !recipients.isEmpty else { return [] }
        let connected = live.connectedDeviceIDs(ofUsers: Set(recipients.map(\.userID)))
        return recipients.filter { !connected.contains($0.deviceID) }
    }

    /// Queues `push` unless the queue is full (then it is dropped, and logged).
    private func enqueue(_ push: QueuedPush, store: Store, batch: inout Batch) throws {
        let waiting = try batch.waiting ?? store.pushQueueLength()
        guard waiting < settings.queueLimit else {
            batch.waiting = waiting
            logger.warning("push queue full; a push was dropped", metadata: ["limit": "\(settings.queueLimit)"])
            return
        }
        batch.waiting = waiting + (try store.enqueuePush(push) ? 1 : 0)
        batch.queued += 1
    }
}

import Foundation
import Logging
import Storage
import Synchronization

/// The message relay's domain side: sends into the one writer, the per-user send limit, and the
/// reads a socket needs (sync pages, read marks, who sees typing, whom presence concerns).
///
/// The socket side (the Web module's `RelaySession` and `RelayHub`) reads frames, words errors
/// and writes frames; it calls these for everything that touches the database or the rules.
public final class Relay: ContextualService {
    let writer: MessageWriter
    public let limits: HearthConfiguration.RelayLimits
    /// Calls, signalled over the same sockets.
    public let calls: Calls
    private let sendBuckets = Mutex([Int64: TokenBucket]())

    let context: ServiceContext

    init(context: ServiceContext, writer: MessageWriter, limits: HearthConfiguration.RelayLimits, calls: Calls) {
        self.context = context
        self.writer = writer
        self.limits = limits
        self.calls = calls
    }

    /// Takes one `send` from the user's budget; false when they are over `messagesPerMinute`.
    public func allowSend(userID: Int64) -> Bool {
        let now = clock()
        let rate = Double(limits.messagesPerMinute) / 60
        return sendBuckets.withLock { buckets in
            if buckets.count > 100_000 { buckets = buckets.filter { !$0.value.isFull(now: now) } }
            return buckets[
                userID, default: TokenBucket(capacity: Double(limits.messagesPerMinute), rate: rate, now: now)
            ]
            .take(now: now)
        }
    }

    /// Queues a checked send for the writer, which screens it by the moderation rules (off the
    /// event loops) and commits it; its answer reaches `origin` through ``LiveEvents``.
    public func submit(
        from sender: Sender, origin: any SendOrigin, roomID: Int64, clientID: String, body: String,
        attachments: [String], replyTo: Int64? = nil
    ) {
        writer.submit(
            .init(
                sender: sender, origin: origin, roomID: roomID, clientID: clientID, body: body,
                attachments: attachments, replyTo: replyTo))
    }

    /// What a change asks for: a reaction added or taken back, a new text, or a deletion.
    public enum Change: Sendable {
        case react(emoji: String, on: Bool)
        case edit(body: String)
        case delete
    }

    /// Queues a change to the message at `seq` for the writer (edits are screened like sends);
    /// `role` says whether the sender may delete others' messages.
    public func submit(
        _ change: Change, from sender: Sender, role: User.Role, origin: any SendOrigin, roomID: Int64, seq: Int64,
        clientID: String
    ) {
        writer.submit(
            MessageWriter.Change(
                sender: sender, moderator: role >= .moderator, origin: origin, roomID: roomID, messageSeq: seq,
                clientID: clientID, kind: change))
    }

    /// A message's current state and a stream's events after `seq` in the user's rooms, merged in
    /// seq order, at most `limit`: one page of a sync.
    public func stream(forUser userID: Int64, after seq: Int64, limit: Int) async throws(ServiceError) -> [StreamItem] {
        try await run {
            try await database.read { store in
                let messages = try store.messages(forUser: userID, after: seq, limit: limit).map(StreamItem.message)
                let events = try store.events(forUser: userID, after: seq, limit: limit).map(StreamItem.event)
                guard !events.isEmpty else { return messages }
                return Array((messages + events).sorted { $0.seq < $1.seq }.prefix(limit))
            }
        }
    }

    /// Marks a room read up to `seq` for a member; returns the members to tell, or nil when the
    /// mark did not move forward.
    public func markRead(roomID: Int64, userID: Int64, seq: Int64) async throws(ServiceError) -> [Int64]? {
        try await run {
            try await database.write { store -> [Int64]? in
                try Self.requireMember(roomID: roomID, userID: userID, store: store)
                guard try store.markRead(roomID: roomID, userID: userID, seq: seq) else { return nil }
                return try store.memberIDs(roomID: roomID)
            }
        }
    }

    /// The other members of a room, who see a member typing there.
    public func typingRecipients(roomID: Int64, userID: Int64) async throws(ServiceError) -> [Int64] {
        try await run {
            try await database.read { store in
                let members = try store.memberIDs(roomID: roomID)
                guard members.contains(userID) else {
                    throw try store.room(id: roomID) == nil ? ServiceError.roomNotFound : ServiceError.notAMember
                }
                return members.filter { $0 != userID }
            }
        }
    }

    /// Records which seqs reached which members (in batches, off the message path).
    public func recordDelivered(_ marks: [(roomID: Int64, userID: Int64, seq: Int64)]) async {
        guard !marks.isEmpty else { return }
        do {
            try await database.write { try $0.markDelivered(marks) }
        } catch {
            logger.warning("delivered marks not recorded", metadata: ["error": "\(error)"])
        }
    }

    /// The users who share a room with `userID`: they see each other's presence.
    public func contacts(of userID: Int64) async -> [Int64]? {
        try? await database.read { try $0.contacts(userID: userID) }
    }

    /// Which of `deviceIDs` still have a live session: the rest were ended by another process.
    public func liveDeviceIDs(_ deviceIDs: Set<Int64>) async -> Set<Int64> {
        guard !deviceIDs.isEmpty else { return [] }
        return (try? await database.read { try $0.liveDeviceIDs(Array(deviceIDs)) }) ?? deviceIDs
    }

    private static func requireMember(roomID: Int64, userID: Int64, store: Store) throws {
        guard try store.isMember(roomID: roomID, userID: userID) else {
            throw try store.room(id: roomID) == nil ? ServiceError.roomNotFound : ServiceError.notAMember
        }
    }
}

/// A token bucket: `capacity` tokens, refilled at `rate` per second.
public struct TokenBucket: Sendable {
    let capacity: Double
    let rate: Double
    var tokens: Double
    var updated: Date

    public init(capacity: Double, rate: Double, now: Date) {
        self.capacity = capacity
        self.rate = rate
        tokens = capacity
        updated = now
    }

    public mutating func take(now: Date) -> Bool {
        tokens = min(capacity, tokens + now.timeIntervalSince(updated) * rate)
        updated = now
        guard tokens >= 1 else { return false }
        tokens -= 1
        return true
    }

    func isFull(now: Date) -> Bool {
        tokens + now.timeIntervalSince(updated) * rate >= capacity
    }
}

/// One item of the message sequence as a sync replays it: a message in its current state, or a
/// change to one.
public enum StreamItem: Sendable {
    case message(Message)
    case event(MessageEvent)

    /// Its place in the sequence.
    public var seq: Int64 {
        switch self {
        case .message(let message): message.seq
        case .event(let event): event.seq
        }
    }
}

import Foundation
import Services
import Storage
import Synchronization

/// One live WebSocket of one device: its outbox, and what it has been sent.
///
/// Live messages and sync pages meet here. While a `sync` runs, live messages wait in a buffer;
/// when it ends they follow in order. Nothing is sent twice, whichever path brought it, and a
/// sync never skips a message the socket has not had: live messages reach a socket in seq order
/// from the moment it joins the hub, so everything from the first one it was handed (`liveFloor`)
/// on came or will come live, and everything a sync handed is at most `syncedThrough`.
public final class RelayConnection: SendOrigin, Hashable {
    public let id: UUID
    public let userID: Int64
    public let username: String
    public let deviceID: Int64
    /// Who sends what this socket sends, for the moderation rules.
    let sender: Sender
    /// The user's role when the socket opened: moderators may delete anyone's message.
    let role: User.Role
    public let outbox: Outbox

    private struct State {
        var syncing = false
        var buffered: [Published] = []
        /// The highest seq handed to this socket by either path.
        var highWater: Int64 = 0
        /// The seq of the first message (or ack) handed live; nil until there is one.
        var liveFloor: Int64?
        /// The highest seq a sync has handed to this socket.
        var syncedThrough: Int64 = 0
    }

    private let state = Mutex(State())
    /// Set when the connection has been removed from the hub (or the outbox overflowed).
    let onOverflow: @Sendable (RelayConnection) -> Void

    init(
        userID: Int64, username: String, deviceID: Int64, accountCreatedAt: Int64 = 0, role: User.Role = .member,
        limits: HearthConfiguration.RelayLimits, onOverflow: @escaping @Sendable (RelayConnection) -> Void
    ) {
        id = UUID()
        self.userID = userID
        self.username = username
        self.deviceID = deviceID
        sender = Sender(userID: userID, username: username, deviceID: deviceID, accountCreatedAt: accountCreatedAt)
        self.role = role
        outbox = Outbox(maxFrames: limits.outboxFrames, maxBytes: limits.outboxBytes)
        self.onOverflow = onOverflow
    }

    public static func == (lhs: RelayConnection, rhs: RelayConnection) -> Bool { lhs.id == rhs.id }
    public func hash(into hasher: inout Hasher) { hasher.combine(id) }

    /// A committed message or change on its way to members: its place in the sequence, its frame
    /// encoded once for everyone, and the ack for the connection that sent it.
    struct Published: Sendable {
        let seq: Int64
        /// A message's room and sender, for its delivery receipt; nil for changes to messages.
        let delivery: Outbox.Delivery?
        let frame: String
        let origin: RelayConnection?
        let ack: String?
    }

    /// Hands a committed message to this socket (or to the sync buffer), unless it already had it.
    /// True when it was queued now as a message for this device: the hub then tells its sender
    /// (a message that waits in the sync buffer is receipted when it is written).
    func deliver(_ published: Published) -> Bool {
        let (ok, queued): (Bool, Bool) = state.withLock { state in
            if state.syncing {
                state.buffered.append(published)
                return (state.buffered.count <= outbox.maxFrames, false)
            }
            return enqueue(published, state: &state, receiptedNow: true)
        }
        if !ok { onOverflow(self) }
        return queued
    }

    /// Queues a message's frame (or the sender's ack). Returns whether the outbox took it, and
    /// whether a message with a delivery was queued; with `receiptedNow` the caller sends its
    /// receipt, else the frame carries the delivery and the writer reports it once written.
    private func enqueue(_ published: Published, state: inout State, receiptedNow: Bool) -> (ok: Bool, queued: Bool) {
        if state.liveFloor == nil { state.liveFloor = published.seq }
        if published.origin == self, let ack = published.ack {
            // The sender always gets its ack, even when a sync already showed it the message.
            state.highWater = max(state.highWater, published.seq)
            return (outbox.push(.init(text: ack, delivery: nil)), false)
        }
        guard published.seq > state.highWater else { return (true, false) }
        state.highWater = published.seq
        let ok = outbox.push(.init(text: published.frame, delivery: receiptedNow ? nil : published.delivery))
        return (ok, ok && receiptedNow && published.delivery != nil)
    }

    /// Queues a frame that is not a message (ack of a retry, error, receipt, typing, presence);
    /// cuts the device off when its outbox is full.
    func send(_ text: String) {
        if !outbox.push(.init(text: text, delivery: nil)) { onOverflow(self) }
    }

    /// Starts a sync: live messages wait until ``finishSync()``.
    func beginSync() {
        state.withLock { $0.syncing = true }
    }

    /// Sends one message or change read from the database during a sync, waiting for room in the
    /// outbox. False when the socket is closing.
    func sendFromSync(_ item: StreamItem) async -> Bool {
        let seq = item.seq
        let fresh = state.withLock { state in
            // Handed by an earlier sync, or came (or will come, from the buffer) live.
            if seq <= state.syncedThrough { return false }
            if let floor = state.liveFloor, seq >= floor { return false }
            state.syncedThrough = seq
            state.highWater = max(state.highWater, seq)
            return true
        }
        guard fresh else { return true }
        switch item {
        case .message(let message):
            return await outbox.pushWhenRoom(
                .init(text: MessageJSON.object(message), delivery: Outbox.Delivery(message)))
        case .event(let event):
            return await outbox.pushWhenRoom(.init(text: RelayFrames.event(event), delivery: nil))
        }
    }

    /// Ends a sync: the live messages that arrived meanwhile follow, in order, without repeats.
    /// Returns the highest seq this socket has now been handed.
    func finishSync() -> Int64 {
        let (ok, highWater): (Bool, Int64) = state.withLock { state in
            var ok = true
            for published in state.buffered where ok {
                ok = enqueue(published, state: &state, receiptedNow: false).ok
            }
            state.buffered = []
            state.syncing = false
            return (ok, state.highWater)
        }
        if !ok { onOverflow(self) }
        return highWater
    }
}

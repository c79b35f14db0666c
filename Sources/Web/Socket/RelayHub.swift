import Foundation
import Logging
import Metrics
import Services
import Storage
import Synchronization

/// The registry of connected devices and the fan-out of everything live: the services' ``LiveEvents``,
/// in frames.
///
/// Delivery only ever queues into a socket's bounded outbox; a socket that cannot keep up is cut
/// off (``CloseReason/tooSlow``) and catches up with `sync`, so a slow device never slows anyone.
public final class RelayHub: LiveEvents {
    private struct Registry {
        var byUser: [Int64: Set<RelayConnection>] = [:]
        var lastDelivered: [DeliveryKey: Int64] = [:]
        /// Delivered marks not yet written to the database.
        var unrecorded: [DeliveryKey: Int64] = [:]
        var lastTyping: [TypingKey: Date] = [:]
        /// Delivery receipts gathered while the writer publishes one commit (``batchPublished()``).
        var receipts: [DeliveryKey: PendingReceipt] = [:]
        var shuttingDown = false
    }

    /// A delivered receipt waiting for the end of its commit's publishing: the highest seq the
    /// recipient was handed in the room, and the senders to tell (receipts are cumulative).
    private struct PendingReceipt {
        let username: String
        var seq: Int64 = 0
        var senderIDs: Set<Int64> = []

        /// Notes a message the recipient was handed (in seq order, so its seq is the highest yet).
        mutating func add(_ delivery: Outbox.Delivery) {
            seq = delivery.seq
            senderIDs.insert(delivery.senderID)
        }
    }

    private struct DeliveryKey: Hashable {
        let roomID: Int64
        let userID: Int64
    }

    private struct TypingKey: Hashable {
        let roomID: Int64
        let userID: Int64
    }

    let limits: HearthConfiguration.RelayLimits
    /// Messages written to a recipient's socket (`hearth_messages_delivered_total`; a no-op
    /// outside `hearth serve`).
    let deliveredCount = Counter(label: "hearth_messages_delivered_total")
    let clock: @Sendable () -> Date
    let logger: Logger
    private let registry = Mutex(Registry())

    public init(
        limits: HearthConfiguration.RelayLimits, clock: @escaping @Sendable () -> Date = { Date() }, logger: Logger
    ) {
        self.limits = limits
        self.clock = clock
        self.logger = logger
    }

    // MARK: Connections

    /// Registers a new socket of `session`'s device and tells it and its contacts (`contacts`
    /// reads them) who is online; or says why not: the server shuts down (``CloseReason/goingAway``),
    /// or the device or its user already holds as many sockets as `socketsPerDevice` /
    /// `socketsPerUser` allow (``CloseReason/tooManySockets``).
    func connect(
        _ session: Session, contacts: @Sendable (Int64) async -> [Int64]?
    ) async -> Result<RelayConnection, CloseRefusal> {
        let connection = RelayConnection(
            userID: session.user.id, username: session.user.username, deviceID: session.device.id,
            accountCreatedAt: session.user.createdAt, role: session.user.role, limits: limits
        ) { [weak self] connection in
            self?.disconnect(connection, reason: .tooSlow)
        }
        let limits = limits
        let admitted: Result<Bool, CloseRefusal> = registry.withLock { registry in
            guard !registry.shuttingDown else { return .failure(CloseRefusal(reason: .goingAway)) }
            let open = registry.byUser[connection.userID, default: []]
            guard open.count < limits.socketsPerUser,
                open.count(where: { $0.deviceID == connection.deviceID }) < limits.socketsPerDevice
            else { return .failure(CloseRefusal(reason: .tooManySockets)) }
            registry.byUser[connection.userID, default: []].insert(connection)
            return .success(open.isEmpty)
        }
        switch admitted {
        case .failure(let refusal):
            if refusal.reason == .tooManySockets {
                logger.notice("socket refused: too many open", metadata: ["device": "\(connection.deviceID)"])
            }
            return .failure(refusal)
        case .success(let firstDevice):
            if let contacts = await contacts(connection.userID) {
                announcePresence(of: connection, online: true, changed: firstDevice, contacts: contacts)
            }
            return .success(connection)
        }
    }

    /// Removes a socket that has ended (its handler returns). Tells contacts (`contacts` reads
    /// them) when the user's last device left.
    func disconnected(_ connection: RelayConnection, contacts: @Sendable (Int64) async -> [Int64]?) async {
        connection.outbox.close(.goingAway)
        let lastDevice: Bool = registry.withLock { registry in
            guard registry.byUser[connection.userID]?.remove(connection) != nil else { return false }
            if registry.byUser[connection.userID]?.isEmpty == true {
                registry.byUser[connection.userID] = nil
                return true
            }
            return false
        }
        if lastDevice, let contacts = await contacts(connection.userID) {
            announcePresence(of: connection, online: false, changed: true, contacts: contacts)
        }
    }

    /// Closes one socket for `reason` once its queued frames are written.
    func disconnect(_ connection: RelayConnection, reason: CloseReason) {
        if reason == .tooSlow {
            logger.info("device cut off: too slow", metadata: ["device": "\(connection.deviceID)"])
        }
        connection.outbox.close(reason)
    }

    /// Closes every socket of a device (signed out or revoked).
    func disconnect(deviceID: Int64) {
        for connection in connections(where: { $0.deviceID == deviceID }) {
            disconnect(connection, reason: .sessionEnded)
        }
    }

    /// Closes every socket of a user (disabled, deleted, or their password reset).
    func disconnect(userID: Int64) {
        for connection in connections(of: [userID]) { disconnect(connection, reason: .sessionEnded) }
    }

    /// Closes the sockets of devices not in `live`: used when another process (the CLI) ended
    /// sessions in the database.
    func keepOnly(liveDeviceIDs live: Set<Int64>) {
        for connection in connections(where: { !live.contains($0.deviceID) }) {
            disconnect(connection, reason: .sessionEnded)
        }
    }

    /// Stops taking connections and closes every socket with 1001 after its outbox is written;
    /// waits (at most `timeout`) until all have gone.
    public func shutdown(timeout: Duration = .seconds(5)) async {
        let all: [RelayConnection] = registry.withLock { registry in
            registry.shuttingDown = true
            return registry.byUser.values.flatMap { $0 }
        }
        for connection in all { connection.outbox.close(.goingAway) }
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline, registry.withLock({ !$0.byUser.isEmpty }) {
            try? await Task.sleep(for: .milliseconds(20))
        }
    }

    /// The devices with a socket open now.
    public func connectedDeviceIDs() -> Set<Int64> {
        registry.withLock { registry in Set(registry.byUser.values.flatMap { $0.map(\.deviceID) }) }
    }

    /// The devices of `userIDs` with a socket open now.
    public func connectedDeviceIDs(ofUsers userIDs: Set<Int64>) -> Set<Int64> {
        registry.withLock { registry in Set(userIDs.flatMap { (registry.byUser[$0] ?? []).map(\.deviceID) }) }
    }

    /// How many users and devices have a socket open now.
    public func onlineCounts() -> (users: Int, devices: Int) {
        registry.withLock { registry in (registry.byUser.count, registry.byUser.values.reduce(0) { $0 + $1.count }) }
    }

    func connections(of userIDs: some Sequence<Int64>) -> [RelayConnection] {
        registry.withLock { registry in userIDs.flatMap { registry.byUser[$0] ?? [] } }
    }

    private func connections(where predicate: (RelayConnection) -> Bool) -> [RelayConnection] {
        registry.withLock { registry in registry.byUser.values.flatMap { $0.filter(predicate) } }
    }

    // MARK: Fan-out

    /// Hands a committed message to every connected device of the room's members. Its sender is
    /// told it was delivered at the end of the commit (``batchPublished()``), in the same write as
    /// its ack when the sender's socket has not been written to meanwhile.
    func publish(_ published: RelayConnection.Published, to memberIDs: [Int64]) {
        let recipients = connections(of: memberIDs).filter { $0.deliver(published) }
        guard let delivery = published.delivery, !recipients.isEmpty else { return }
        registry.withLock { registry in
            for recipient in recipients where self.mark(delivery, to: recipient, in: &registry) {
                let key = DeliveryKey(roomID: delivery.roomID, userID: recipient.userID)
                registry.receipts[key, default: PendingReceipt(username: recipient.username)].add(delivery)
            }
        }
    }

    /// Sends a frame to every connected device of `userIDs`, except `excluded`.
    func broadcast(_ frame: String, to userIDs: some Sequence<Int64>, except excluded: RelayConnection? = nil) {
        for connection in connections(of: userIDs) where connection != excluded { connection.send(frame) }
    }

    /// Notes that a socket of `recipient` was written a message from a sync: its sender learns it
    /// was delivered. (Live messages are receipted when queued, by ``publish(_:to:)``.)
    public func delivered(_ delivery: Outbox.Delivery, to recipient: RelayConnection) {
        guard registry.withLock({ self.mark(delivery, to: recipient, in: &$0) }) else { return }
        let frame = RelayFrames.receipt(
            room: delivery.roomID, user: recipient.username, seq: delivery.seq, kind: "delivered")
        broadcast(frame, to: [delivery.senderID])
    }

    /// Records a delivery to `recipient`; true when its sender is to be told. Receipts are
    /// cumulative per room and recipient, so only a higher seq makes a new one, and none goes
    /// to a sender for their own message on their other devices.
    private func mark(_ delivery: Outbox.Delivery, to recipient: RelayConnection, in registry: inout Registry) -> Bool {
        guard delivery.senderID != recipient.userID else { return false }
        deliveredCount.increment()
        let key = DeliveryKey(roomID: delivery.roomID, userID: recipient.userID)
        guard registry.lastDelivered[key, default: 0] < delivery.seq else { return false }
        registry.lastDelivered[key] = delivery.seq
        registry.unrecorded[key] = delivery.seq
        return true
    }

    /// The delivered marks since the last call, for the database (see ``RelayService``).
    func takeDeliveredMarks() -> [(roomID: Int64, userID: Int64, seq: Int64)] {
        registry.withLock { registry in
            let marks = registry.unrecorded.map { (roomID: $0.key.roomID, userID: $0.key.userID, seq: $0.value) }
            registry.unrecorded = [:]
            return marks
        }
    }

    /// Whether `userID` may relay a typing event in `roomID` now (at most one per interval).
    func allowTyping(userID: Int64, roomID: Int64) -> Bool {
        let now = clock()
        let key = TypingKey(roomID: roomID, userID: userID)
        return registry.withLock { registry in
            if let last = registry.lastTyping[key], now.timeIntervalSince(last) < limits.typingInterval {
                return false
            }
            if registry.lastTyping.count > 100_000 { registry.lastTyping.removeAll() }
            registry.lastTyping[key] = now
            return true
        }
    }

    /// Forgets per-room state of a member who left.
    public func memberLeft(userID: Int64, roomID: Int64) {
        registry.withLock { registry in
            registry.lastDelivered[DeliveryKey(roomID: roomID, userID: userID)] = nil
            registry.lastTyping[TypingKey(roomID: roomID, userID: userID)] = nil
        }
    }

    // MARK: Presence

    /// Tells a user's contacts they came online or went offline (when `changed`), and tells a new
    /// socket which of its contacts are online.
    private func announcePresence(of connection: RelayConnection, online: Bool, changed: Bool, contacts: [Int64]) {
        if changed {
            let frame = RelayFrames.encode(RelayFrames.Presence(user: connection.username, online: online))
            broadcast(frame, to: contacts)
        }
        guard online else { return }
        let onlineContacts = registry.withLock { registry in
            contacts.compactMap { registry.byUser[$0]?.first?.username }
        }
        for username in onlineContacts.sorted() {
            connection.send(RelayFrames.encode(RelayFrames.Presence(user: username, online: true)))
        }
    }

    // MARK: LiveEvents

    public func published(_ message: Message, to memberIDs: [Int64], answering answer: SendAnswer?) {
        publish(
            .init(
                seq: message.seq, delivery: Outbox.Delivery(message), frame: MessageJSON.object(message),
                origin: answer?.origin as? RelayConnection, ack: answer.map(RelayFrames.answer)),
            to: memberIDs)
    }

    public func changed(_ event: MessageEvent, to memberIDs: [Int64], answering answer: SendAnswer?) {
        publish(
            .init(
                seq: event.seq, delivery: nil, frame: RelayFrames.event(event),
                origin: answer?.origin as? RelayConnection, ack: answer.map(RelayFrames.answer)),
            to: memberIDs)
    }

    public func answer(_ answer: SendAnswer) {
        (answer.origin as? RelayConnection)?.send(RelayFrames.answer(answer))
    }

    /// Sends the delivery receipts the commit's messages made: one per room and recipient, at the
    /// highest seq, to every sender of those messages.
    public func batchPublished() {
        let receipts = registry.withLock { registry in
            defer { registry.receipts = [:] }
            return registry.receipts
        }
        for (key, receipt) in receipts {
            let frame = RelayFrames.receipt(
                room: key.roomID, user: receipt.username, seq: receipt.seq, kind: "delivered")
            broadcast(frame, to: receipt.senderIDs)
        }
    }

    public func deleted(roomID: Int64, seq: Int64, to memberIDs: [Int64]) {
        broadcast(RelayFrames.deleted(room: roomID, seq: seq), to: memberIDs)
    }

    public func linkRequested(_ request: LinkRequest, to userID: Int64) {
        let frame = RelayFrames.LinkRequested(
            code: request.code, deviceName: request.deviceName,
            device: AccountRules.deviceName(fromUserAgent: request.userAgent), userAgent: request.userAgent,
            ip: request.ip)
        broadcast(RelayFrames.encode(frame), to: [userID])
    }

    public func roomChanged(_ room: Rooms.Info, to userIDs: [Int64], joined: [Int64]) {
        broadcast(RelayFrames.encode(RelayFrames.RoomChanged(room: RoomJSON(room))), to: userIDs)
        guard !joined.isEmpty else { return }
        // New members and the others see each other's presence at once: each online member's
        // frame is written once, and only pairs with a newcomer in them are told.
        let newcomers = Set(joined)
        let online = registry.withLock { registry in room.members.filter { registry.byUser[$0.userID] != nil } }
        for member in online {
            let frame = RelayFrames.encode(RelayFrames.Presence(user: member.username, online: true))
            let told = newcomers.contains(member.userID) ? room.members.map(\.userID) : joined
            broadcast(frame, to: told.filter { $0 != member.userID })
        }
    }

    public func settingsChanged(roomID: Int64, _ settings: ChatSettings, to userID: Int64) {
        broadcast(
            RelayFrames.encode(RelayFrames.SettingsChanged(room: roomID, settings: .init(settings))), to: [userID])
    }

    public func profileChanged(_ user: User, to userIDs: [Int64]) {
        broadcast(RelayFrames.encode(RelayFrames.ProfileChanged(user: ProfileJSON(user))), to: userIDs)
    }

    public func call(_ event: CallEvent, to deviceIDs: Set<Int64>) {
        guard !deviceIDs.isEmpty else { return }
        send(RelayFrames.encode(RelayFrames.CallFrame(event)), toDevices: deviceIDs)
    }

    /// Sends a frame to the sockets of `deviceIDs` (a call's devices).
    func send(_ frame: String, toDevices deviceIDs: Set<Int64>) {
        for connection in connections(where: { deviceIDs.contains($0.deviceID) }) { connection.send(frame) }
    }

    public func sessionEnded(deviceID: Int64) { disconnect(deviceID: deviceID) }

    public func sessionsEnded(userID: Int64) { disconnect(userID: userID) }
}

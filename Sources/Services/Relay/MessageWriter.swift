import Foundation
import Logging
import Storage
import Synchronization

/// The one writer of messages: group commit.
///
/// Sends from every connection queue here. Whenever the queue is non-empty and no commit is in
/// flight, everything queued is screened by the moderation rules and committed in one transaction
/// (no timer: at low load a message commits alone and at once; under load thousands share one
/// fsync). Only after the commit are the messages published and acked, in seq order.
/// `(device, client id)` is unique in the table, so a retry — even after a restart — gets the
/// original ack and stores nothing.
///
/// Screening runs here, on the writer's task, never on the event loop that read the frame: a
/// message's text rules cost time linear in its length (RE2), and that time is never taken from
/// other sockets' reads. Doing it here rather than in a task per send costs no extra thread hop.
final class MessageWriter: Sendable {
    /// A validated `send` waiting for its commit.
    struct Send: Sendable {
        let connection: RelayConnection
        let roomID: Int64
        let clientID: String
        /// The text as the client sent it.
        let body: String
        /// Public ids of the sender's uploads the message shares.
        let attachments: [String]
    }

    private struct Queue {
        var sends: [Send] = []
        var committing = false
    }

    private enum Outcome: Sendable {
        case stored(Message, members: [Int64])
        case held(Message)
        case retry(seq: Int64, createdAt: Int64, body: String, held: Bool)
        case refused(ServiceError)
    }

    let database: AppDatabase
    let hub: RelayHub
    let moderation: Moderation
    let clock: @Sendable () -> Date
    let logger: Logger
    private let queue = Mutex(Queue())

    init(
        database: AppDatabase, hub: RelayHub, moderation: Moderation, clock: @escaping @Sendable () -> Date,
        logger: Logger
    ) {
        self.database = database
        self.hub = hub
        self.moderation = moderation
        self.clock = clock
        self.logger = logger
    }

    /// Queues a send; its ack or error reaches the connection after the commit.
    func submit(_ send: Send) {
        let start = queue.withLock { queue in
            queue.sends.append(send)
            guard !queue.committing else { return false }
            queue.committing = true
            return true
        }
        if start { Task { await self.drain() } }
    }

    /// Commits batches until the queue is empty.
    private func drain() async {
        while true {
            let batch: [Send] = queue.withLock { queue in
                let batch = queue.sends
                queue.sends = []
                if batch.isEmpty { queue.committing = false }
                return batch
            }
            guard !batch.isEmpty else { return }
            await commit(batch)
        }
    }

    /// Screens a batch by the mutes, text and `rate` rules; a send refused without a rule firing
    /// (a mute, a `rate` refusal already audited) is answered now, the rest go on with what the
    /// rules made of them.
    private func screened(_ batch: [Send]) -> [(Send, Screening)] {
        var screened: [(Send, Screening)] = []
        screened.reserveCapacity(batch.count)
        for send in batch {
            let screening = moderation.screen(body: send.body, roomID: send.roomID, sender: send.connection)
            if let refusal = screening.refusal, screening.hits.isEmpty {
                send.connection.send(RelayFrames.error(refusal, id: send.clientID))
                continue
            }
            screened.append((send, screening))
        }
        return screened
    }

    private func commit(_ sends: [Send]) async {
        let batch = screened(sends)
        guard !batch.isEmpty else { return }
        let now = clock().epochMilliseconds
        let outcomes: [Outcome]
        do {
            outcomes = try await database.write { store in
                var seq = try store.lastSeq()
                var members: [Int64: [Int64]] = [:]
                var outcomes: [Outcome] = []
                outcomes.reserveCapacity(batch.count)
                for (send, screening) in batch {
                    let sender = send.connection
                    let roomMembers = try members[send.roomID] ?? store.memberIDs(roomID: send.roomID)
                    members[send.roomID] = roomMembers
                    guard roomMembers.contains(sender.userID) else {
                        let exists = try !roomMembers.isEmpty || store.room(id: send.roomID) != nil
                        outcomes.append(.refused(exists ? .notAMember : .roomNotFound))
                        continue
                    }
                    // The sender's own finished, not yet shared uploads; a retry is acked as before.
                    var files: [Attachment] = []
                    if !send.attachments.isEmpty,
                        try store.messageID(deviceID: sender.deviceID, clientID: send.clientID) == nil
                    {
                        for publicID in send.attachments {
                            guard let file = try store.attachment(publicID: publicID), file.ownerID == sender.userID,
                                file.complete, file.messageID == nil, !files.contains(where: { $0.id == file.id })
                            else { break }
                            files.append(file)
                        }
                        guard files.count == send.attachments.count else {
                            // Unknown, someone else's, unfinished or already shared: all look the same.
                            outcomes.append(.refused(.notFound("Attachment")))
                            continue
                        }
                    }
                    var screening = screening
                    if !files.isEmpty {
                        screening.add(
                            attachmentHits: moderation.attachmentHits(
                                files.map(\.contentType), roomID: send.roomID, sender: sender))
                    }
                    if let refusal = screening.refusal {
                        try Moderation.record(
                            screening, message: nil, sender: sender, roomID: send.roomID, store: store, now: now)
                        outcomes.append(.refused(refusal))
                        continue
                    }
                    let held = screening.outcome == .hold
                    if let earlier = try store.insertMessage(
                        seq: seq + 1, roomID: send.roomID, senderID: sender.userID, deviceID: sender.deviceID,
                        clientID: send.clientID, body: screening.body, held: held, now: now)
                    {
                        outcomes.append(
                            .retry(
                                seq: earlier.seq, createdAt: earlier.createdAt, body: earlier.body, held: earlier.held))
                        continue
                    }
                    seq += 1
                    var message = Message(
                        id: store.lastInsertedRowID, seq: seq, roomID: send.roomID, senderID: sender.userID,
                        senderName: sender.username, body: screening.body, createdAt: now)
                    message.held = held
                    for file in files { try store.attach(attachmentID: file.id, toMessage: message.id) }
                    message.attachments = files.map(AttachmentInfo.init)
                    try Moderation.record(
                        screening, message: message, sender: sender, roomID: send.roomID, store: store, now: now)
                    outcomes.append(held ? .held(message) : .stored(message, members: roomMembers))
                }
                return outcomes
            }
        } catch {
            let refusal = ServiceError.translating(error)
            logger.error("message batch not committed", metadata: ["error": "\(error)", "size": "\(batch.count)"])
            for (send, _) in batch { send.connection.send(RelayFrames.error(refusal, id: send.clientID)) }
            return
        }
        for ((send, _), outcome) in zip(batch, outcomes) {
            switch outcome {
            case .stored(let message, let members):
                let ack = RelayFrames.ack(
                    id: send.clientID, seq: message.seq, ts: message.createdAt,
                    body: message.body == send.body ? nil : message.body)
                hub.publish(
                    .init(message: message, frame: RelayFrames.message(message), origin: send.connection, ack: ack),
                    to: members)
            case .held(let message):
                send.connection.send(
                    RelayFrames.ack(
                        id: send.clientID, seq: message.seq, ts: message.createdAt,
                        body: message.body == send.body ? nil : message.body, held: true))
            case .retry(let seq, let createdAt, let body, let held):
                send.connection.send(
                    RelayFrames.ack(
                        id: send.clientID, seq: seq, ts: createdAt, body: body == send.body ? nil : body, held: held))
            case .refused(let error):
                send.connection.send(RelayFrames.error(error, id: send.clientID))
            }
        }
    }
}

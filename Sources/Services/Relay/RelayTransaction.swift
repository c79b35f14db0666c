import Foundation
import Storage

/// What each job of a ``MessageWriter`` batch does inside the batch's one write transaction:
/// membership, the attachments a message shares, what the moderation rules decided and its audit
/// record, and the next `seq` for whatever it publishes. One value per transaction; jobs are
/// applied in queue order, so seq numbers follow it.
///
/// A job that is refused (not a member, a blocked message, an item already decided) gets a
/// ``Outcome/refused(_:)`` and writes nothing; only a database failure throws, and then the
/// whole batch is rolled back and every job in it answered with the error.
struct RelayTransaction {
    /// What a job came to, for the writer to publish or answer after the commit.
    enum Outcome: Sendable {
        /// Stored (or approved) under a new seq: published to `members`.
        case published(Message, members: [Int64])
        /// Stored held: only its sender is told, and only by the ack.
        case held(Message)
        /// A retry of a send already stored: acked as before.
        case retry(id: Int64, seq: Int64, createdAt: Int64, body: String, held: Bool)
        /// An approval that published nothing (the message was flagged or reported, not held).
        case decided
        /// A change to a message stored under a new seq: published to `members`.
        case changed(MessageEvent, members: [Int64])
        /// A retry of a change already stored: acked as before.
        case changeRetry(seq: Int64, createdAt: Int64)
        case refused(ServiceError)
    }

    let store: Store
    let screener: Screener
    let now: Int64
    /// The last seq handed out, in this transaction or before it.
    private var seq: Int64
    /// Room members as earlier transactions left them, and as read in this one.
    private(set) var members: RoomMembers

    /// Begins with the member lists earlier transactions read, forgotten if anyone has joined or
    /// left a room since.
    init(store: Store, screener: Screener, now: Int64, members: RoomMembers) throws {
        self.store = store
        self.screener = screener
        self.now = now
        self.members = members
        try self.members.check(store)
        seq = try store.lastSeq()
    }

    mutating func apply(_ job: MessageWriter.Job, screening: Screening?) throws -> Outcome {
        switch job {
        case .send(let send): try self.send(send, screening: screening ?? Screening(body: send.body))
        case .change(let change): try self.change(change, screening: screening)
        case .system(let line): try system(line)
        case .decision(let decision):
            // The queue item must still be open; its decision is audited with the moderator's note.
            switch try Moderation.openItem(decision.itemID, in: store) {
            case .failure(let refusal): .refused(refusal)
            case .success(let (_, message)):
                try decide(decision, on: message)
            }
        }
    }

    private mutating func memberIDs(_ roomID: Int64) throws -> [Int64] {
        try members.ids(of: roomID, in: store)
    }

    private mutating func send(_ send: MessageWriter.Send, screening: Screening) throws -> Outcome {
        let sender = send.sender
        let roomMembers = try memberIDs(send.roomID)
        guard roomMembers.contains(sender.userID) else {
            let exists = try !roomMembers.isEmpty || store.room(id: send.roomID) != nil
            return .refused(exists ? .notAMember : .roomNotFound)
        }
        // The sender's own finished, not yet shared uploads; a retry is acked as before.
        var files: [Attachment] = []
        if !send.attachments.isEmpty, try store.messageID(deviceID: sender.deviceID, clientID: send.clientID) == nil {
            for publicID in send.attachments {
                guard let file = try store.attachment(publicID: publicID), file.ownerID == sender.userID,
                    file.complete, file.messageID == nil, !files.contains(where: { $0.id == file.id }),
                    try !store.isAvatar(publicID: publicID)
                else { break }
                files.append(file)
            }
            guard files.count == send.attachments.count else {
                // Unknown, someone else's, unfinished, already shared or an avatar: all look the same.
                return .refused(.notFound("Attachment"))
            }
        }
        if let replyTo = send.replyTo {
            // A reply quotes a message of the same room that is still there.
            guard let quoted = try store.message(roomID: send.roomID, seq: replyTo), quoted.deletedAt == nil else {
                return .refused(.notFound("The message replied to"))
            }
        }
        var screening = screening
        if !files.isEmpty {
            screening.add(
                attachmentHits: screener.attachmentHits(files.map(\.contentType), roomID: send.roomID, sender: sender))
        }
        if let refusal = screening.refusal {
            try Screener.record(screening, messageID: nil, sender: sender, roomID: send.roomID, store: store, now: now)
            return .refused(refusal)
        }
        let held = screening.outcome == .hold
        let mentions = try Self.mentions(in: screening.body, roomID: send.roomID, store: store)
        if let earlier = try store.insertMessage(
            seq: seq + 1, roomID: send.roomID, senderID: sender.userID, deviceID: sender.deviceID,
            clientID: send.clientID, body: screening.body, held: held, replyTo: send.replyTo, mentions: mentions,
            now: now)
        {
            return .retry(
                id: earlier.id, seq: earlier.seq, createdAt: earlier.createdAt, body: earlier.body, held: earlier.held)
        }
        seq += 1
        var message = Message(
            id: store.lastInsertedRowID, seq: seq, roomID: send.roomID, senderID: sender.userID,
            senderName: sender.username, body: screening.body, createdAt: now)
        message.held = held
        message.mentions = mentions
        if let replyTo = send.replyTo, let quoted = try store.message(roomID: send.roomID, seq: replyTo) {
            message.replyTo = Message.Reply(
                seq: replyTo, from: quoted.senderName, excerpt: Message.excerpt(quoted.body))
        }
        for file in files { try store.attach(attachmentID: file.id, toMessage: message.id) }
        message.attachments = files.map(AttachmentInfo.init)
        try Screener.record(
            screening, messageID: message.id, sender: sender, roomID: send.roomID, store: store, now: now)
        return held ? .held(message) : .published(message, members: roomMembers)
    }

    /// The room's members that `body` mentions by `@name`, in the order first mentioned. Only a
    /// text with an `@` costs a look at the members.
    static func mentions(in body: String, roomID: Int64, store: Store) throws -> [String] {
        guard body.utf8.contains(UInt8(ascii: "@")) else { return [] }
        let members = Set(try store.members(roomID: roomID).map(\.username))
        let parts = body.split(separator: "@", omittingEmptySubsequences: false)
        var found: [String] = []
        for (before, after) in zip(parts, parts.dropFirst()) {
            // `@` starts a word (not the middle of an address such as mum@example.org).
            guard before.last.map({ $0.isWhitespace || "([".contains($0) }) ?? true else { continue }
            var name = after.prefix { $0.isLetter || $0.isNumber || "._-".contains($0) }.lowercased()
            while name.hasSuffix(".") { name.removeLast() }  // "@dad." ends a sentence
            if members.contains(name), !found.contains(name) { found.append(name) }
        }
        return found
    }

    /// A reaction, an edit or a deletion: checked against the message and the sender, stored, and
    /// given the next seq as an event of the room.
    private mutating func change(_ change: MessageWriter.Change, screening: Screening?) throws -> Outcome {
        let outcome = try changeOnce(change, screening: screening)
        // A retry of a change already stored is acked as before, even if the message has been
        // deleted since (a retried deletion finds its own work done).
        if case .refused = outcome,
            let earlier = try store.event(deviceID: change.sender.deviceID, clientID: change.clientID)
        {
            return .changeRetry(seq: earlier.seq, createdAt: earlier.createdAt)
        }
        return outcome
    }

    private mutating func changeOnce(_ change: MessageWriter.Change, screening: Screening?) throws -> Outcome {
        let sender = change.sender
        let roomMembers = try memberIDs(change.roomID)
        guard roomMembers.contains(sender.userID) else {
            let exists = try !roomMembers.isEmpty || store.room(id: change.roomID) != nil
            return .refused(exists ? .notAMember : .roomNotFound)
        }
        guard let message = try store.changeTarget(roomID: change.roomID, seq: change.messageSeq) else {
            return .refused(.notFound("That message"))
        }
        var event = MessageEvent(
            seq: seq + 1, roomID: change.roomID, messageSeq: message.seq, kind: .reaction, username: sender.username,
            createdAt: now)
        switch change.kind {
        case .react(let emoji, let on):
            guard !message.deleted else { return .refused(.notFound("That message")) }
            (event.kind, event.emoji, event.added) = (.reaction, emoji, on)
        case .edit:
            guard message.senderID == sender.userID else { return .refused(.notYours) }
            guard !message.deleted else { return .refused(.notFound("That message")) }
            let screening = screening ?? Screening(body: "")
            if let refusal = screening.refusal {
                try Screener.record(
                    screening, messageID: nil, sender: sender, roomID: change.roomID, store: store, now: now, edit: true
                )
                return .refused(refusal)
            }
            (event.kind, event.body) = (.edit, screening.body)
        case .delete:
            guard message.senderID == sender.userID || change.moderator else { return .refused(.notYours) }
            guard !message.deleted else { return .refused(.notFound("That message")) }
            event.kind = .delete
        }
        if let earlier = try store.insertEvent(
            event, userID: sender.userID, deviceID: sender.deviceID, clientID: change.clientID)
        {
            return .changeRetry(seq: earlier.seq, createdAt: earlier.createdAt)
        }
        seq += 1
        switch change.kind {
        case .react(let emoji, let on):
            _ = try store.setReaction(messageID: message.id, userID: sender.userID, emoji: emoji, on: on, now: now)
        case .edit:
            try store.editMessage(id: message.id, body: event.body ?? "", now: now)
            // Every edit is in the audit log with the text it replaced, for moderators.
            try store.audit(
                AuditActor(userID: sender.userID, name: sender.username, ip: nil), "message_edited",
                target: Moderation.auditTarget(message), detail: "was: " + String(message.body.prefix(500)), now: now)
            if let screening {
                try Screener.record(
                    screening, messageID: message.id, sender: sender, roomID: change.roomID, store: store, now: now,
                    edit: true)
            }
        case .delete:
            try store.deleteForEveryone(id: message.id, roomID: message.roomID, seq: message.seq, now: now)
            if message.senderID != sender.userID {
                try store.audit(
                    AuditActor(userID: sender.userID, name: sender.username, ip: nil), "message_deleted",
                    target: Moderation.auditTarget(message), now: now)
            }
        }
        return .changed(event, members: roomMembers)
    }

    private mutating func decide(_ decision: MessageWriter.Decision, on message: Message) throws -> Outcome {
        let action = decision.kind == .approve ? "message_approved" : "message_deleted"
        try store.audit(
            decision.actor, action, target: Moderation.auditTarget(message), detail: decision.note, now: now)
        switch decision.kind {
        case .approve: return try approve(decision, message)
        case .delete: return try deleteForEveryone(decision, message)
        }
    }

    /// Approves a queue item: decided; a held message gets the next seq, so devices that synced
    /// past its old place still get it, in order with everything else.
    private mutating func approve(_ approval: MessageWriter.Decision, _ message: Message) throws -> Outcome {
        try store.decideReviewItem(
            id: approval.itemID, state: .approved, by: approval.actor.userID, note: approval.note, now: now)
        guard message.held else { return .decided }
        seq += 1
        try store.publishHeldMessage(id: message.id, seq: seq)
        var published = message
        published.seq = seq
        published.held = false
        return .published(published, members: try memberIDs(message.roomID))
    }

    /// A system line about a change to a room, published to its members as they are now.
    private mutating func system(_ line: MessageWriter.SystemLine) throws -> Outcome {
        seq += 1
        let id = try store.insertSystemLine(
            seq: seq, roomID: line.roomID, actorID: line.actor.id, body: line.text, now: now)
        var message = Message(
            id: id, seq: seq, roomID: line.roomID, senderID: line.actor.id, senderName: line.actor.username,
            body: line.text, createdAt: now)
        message.system = true
        return .published(message, members: try memberIDs(line.roomID))
    }

    /// Deletes a queue item's published message for everyone (the item is decided as `deleted`,
    /// its reports closed), and the deletion is an event under the next seq.
    private mutating func deleteForEveryone(_ decision: MessageWriter.Decision, _ message: Message) throws -> Outcome {
        try store.deleteForEveryone(id: message.id, roomID: message.roomID, seq: message.seq, now: now)
        try store.decideReviewItem(
            id: decision.itemID, state: .deleted, by: decision.actor.userID, note: decision.note, now: now)
        seq += 1
        let event = MessageEvent(
            seq: seq, roomID: message.roomID, messageSeq: message.seq, kind: .delete, username: decision.actor.name,
            createdAt: now)
        _ = try store.insertEvent(event, userID: decision.actor.userID, deviceID: nil, clientID: nil)
        return .changed(event, members: try memberIDs(message.roomID))
    }
}

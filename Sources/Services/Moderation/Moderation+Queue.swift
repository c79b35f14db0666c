import Foundation
import Storage

extension Moderation {
    /// One entry of the review queue: the message, why it is there, and what was said around it.
    public struct QueueEntry: Sendable {
        public let item: ReviewItem
        public let message: Message
        public let roomName: String?
        public let reports: [Report]
        public let before: [Message]
        public let after: [Message]
        /// The texts the message had before its edits, oldest first.
        public let earlierTexts: [(body: String, editedAt: Int64)]
    }

    /// What a moderator does with a queue item.
    public enum Decision: String, Sendable, CaseIterable {
        /// The message is fine: a held one is published (at a new seq), a flagged or reported one stays.
        case approve
        /// The message is deleted for everyone (a held one removed altogether); devices get `deleted`.
        case delete
        /// Nothing to do (flagged and reported items only).
        case dismiss
    }

    // MARK: Reports

    /// Reports a message (`POST /api/v1/reports`): any member of its room may, once while the
    /// report is open. The message goes to the review queue.
    public func report(
        messageID: Int64, reason rawReason: String, by session: Session, ip: String?
    ) async throws
        -> Int64
    {
        let reason = rawReason.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !reason.isEmpty, reason.count <= limits.reasonMaxCharacters else {
            throw ServiceError.invalidField("A report needs a reason of 1 to \(limits.reasonMaxCharacters) characters.")
        }
        let now = self.now
        let user = session.user
        let actor = AuditActor(user: user, ip: ip)
        do {
            return try await database.write { store in
                guard let message = try store.message(id: messageID),
                    !message.held || message.senderID == user.id,
                    try store.isMember(roomID: message.roomID, userID: user.id)
                else { throw ServiceError.notFound("Message \(messageID)") }
                let id = try store.insertReport(messageID: messageID, reporterID: user.id, reason: reason, now: now)
                try store.openReviewItem(messageID: messageID, reason: .reported, rules: nil, now: now)
                try store.audit(
                    actor, "message_reported", target: "message \(messageID) in room \(message.roomID)",
                    detail: reason, now: now)
                return id
            }
        } catch StorageError.constraint {
            // The one unique index a report can hit: one open report per user and message.
            throw ServiceError.alreadyReported
        } catch {
            throw ServiceError.translating(error)
        }
    }

    // MARK: Queue

    /// Queue entries, newest first: open ones, or decided ones when `decided`.
    public func queue(decided: Bool = false, before: Int64? = nil, limit: Int? = nil) async throws -> [QueueEntry] {
        let limit = min(max(limit ?? 50, 1), limits.pageMaxLimit)
        let contextCount = limits.contextMessages
        return try await run {
            try await database.read { store in
                let states: [ReviewItem.State] = decided ? [.approved, .dismissed, .deleted] : [.open]
                return try store.reviewItems(states: states, before: before, limit: limit).compactMap { item in
                    guard let message = try Self.message(of: item, in: store) else { return nil }
                    let context =
                        item.messageID == nil
                        ? (before: [], after: [])
                        : try store.context(roomID: message.roomID, around: message.seq, count: contextCount)
                    return QueueEntry(
                        item: item, message: message, roomName: try store.room(id: message.roomID)?.name,
                        reports: try store.reports(messageID: message.id), before: context.before,
                        after: context.after, earlierTexts: try store.earlierTexts(messageID: message.id))
                }
            }
        }
    }

    /// Carries out a moderator's decision on a queue item, and writes it to the audit log.
    ///
    /// An approval is a job for the message writer: a held message gets its new `seq` and is
    /// published there, in commit order with every other message.
    public func decide(itemID: Int64, _ decision: Decision, note: String?, by actor: AuditActor) async throws {
        let note = try checkedNote(note)
        if decision == .approve {
            try await writer.approve(itemID: itemID, note: note, by: actor)
            logger.info("queue item decided", metadata: ["item": "\(itemID)", "decision": "approve"])
            return
        }
        // A published message is deleted for everyone as a member's own deletion is: an event with
        // its own seq, from the writer. A held one, which only its sender knows, simply goes.
        let held = try await run {
            try await database.read { store in try Self.openItem(itemID, in: store).get().1.held }
        }
        if decision == .delete, !held {
            try await writer.deleteForEveryone(itemID: itemID, note: note, by: actor)
            logger.info("queue item decided", metadata: ["item": "\(itemID)", "decision": "delete"])
            return
        }
        let now = self.now
        let outcome: (Message, [Int64])? = try await run {
            try await database.write { store in
                let (_, message) = try Self.openItem(itemID, in: store).get()
                try store.audit(
                    actor, "message_\(decision.pastTense)", target: Self.auditTarget(message), detail: note, now: now)
                let members = try store.memberIDs(roomID: message.roomID)
                switch decision {
                case .approve:
                    return nil  // the writer's job, above
                case .dismiss:
                    guard !message.held else {
                        throw ServiceError.invalidDecision(
                            "A held message is approved or deleted; dismiss is for flagged and reported ones.")
                    }
                    try store.decideReviewItem(id: itemID, state: .dismissed, by: actor.userID, note: note, now: now)
                    return nil
                case .delete:
                    try store.decideReviewItem(id: itemID, state: .deleted, by: actor.userID, note: note, now: now)
                    try store.deleteMessage(id: message.id)
                    // Only the sender's devices know a held message.
                    return (message, message.held ? [message.senderID].compactMap { $0 } : members)
                }
            }
        }
        guard let (message, members) = outcome else { return }
        if decision == .delete {
            live.deleted(roomID: message.roomID, seq: message.seq, to: members)
        }
        logger.info("queue item decided", metadata: ["item": "\(itemID)", "decision": "\(decision.rawValue)"])
    }

    /// The message a queue item is about; for one removed altogether (a held message deleted), a
    /// stand-in that says who sent it where, deleted, without its text.
    static func message(of item: ReviewItem, in store: Store) throws -> Message? {
        if let id = item.messageID { return try store.message(id: id) }
        guard let roomID = item.roomID else { return nil }
        var gone = Message(
            id: 0, seq: 0, roomID: roomID, senderID: item.senderID,
            senderName: try item.senderID.flatMap { try store.user(id: $0)?.username }, body: "",
            createdAt: item.createdAt)
        gone.held = item.reason == .held
        gone.deletedAt = item.decidedAt
        return gone
    }

    /// A queue item still open and its message, or why it cannot be decided.
    static func openItem(_ id: Int64, in store: Store) throws -> Result<(ReviewItem, Message), ServiceError> {
        guard let item = try store.reviewItem(id: id), let messageID = item.messageID,
            let message = try store.message(id: messageID)
        else {
            return .failure(.notFound("Queue item \(id)"))
        }
        guard item.state == .open else {
            return .failure(.invalidDecision("That item was already decided (\(item.state.rawValue))."))
        }
        return .success((item, message))
    }

    /// How the audit log names a message a moderator decided on.
    static func auditTarget(_ message: Message) -> String {
        auditTarget(id: message.id, senderName: message.senderName, roomID: message.roomID)
    }

    static func auditTarget(_ message: ChangeTarget) -> String {
        auditTarget(id: message.id, senderName: message.senderName, roomID: message.roomID)
    }

    static func auditTarget(id: Int64, senderName: String?, roomID: Int64) -> String {
        "message \(id) by \(senderName ?? "a deleted user") in room \(roomID)"
    }

    // MARK: Mutes

    /// Mutes a user for `duration` seconds: their sends are refused with `muted` until then.
    /// Moderators may mute members only; nobody mutes themselves.
    @discardableResult
    public func mute(
        username: String, for duration: TimeInterval, reason: String?, by actor: AuditActor, role: User.Role
    ) async throws -> Int64 {
        guard duration >= 60, duration <= limits.muteMaxDuration else {
            throw ServiceError.invalidField(
                "A mute lasts 1 minute to \(Int(limits.muteMaxDuration / 86_400)) days.")
        }
        let note = try checkedNote(reason)
        let now = self.now
        let until = now + Int64(duration * 1000)
        let userID = try await run {
            try await database.write { store in
                let user = try Self.moderatable(username, by: actor, role: role, store)
                try store.setMutedUntil(userID: user.id, until)
                try store.audit(
                    actor, "user_muted", target: user.username,
                    detail: "until \(Date(timeIntervalSince1970: Double(until) / 1000).formatted(.iso8601))"
                        + (note.map { "; \($0)" } ?? ""), now: now)
                return user.id
            }
        }
        noteMute(userID: userID, until: until)
        return until
    }

    /// Ends a user's mute.
    public func unmute(username: String, by actor: AuditActor, role: User.Role) async throws {
        let now = self.now
        let userID = try await run {
            try await database.write { store in
                let user = try Self.moderatable(username, by: actor, role: role, store)
                try store.setMutedUntil(userID: user.id, nil)
                try store.audit(actor, "user_unmuted", target: user.username, now: now)
                return user.id
            }
        }
        noteMute(userID: userID, until: nil)
    }

    /// The user a moderator (`role`) may act on: a member (an admin may act on anyone), never themselves.
    static func moderatable(_ username: String, by actor: AuditActor, role: User.Role, _ store: Store) throws -> User {
        guard let user = try store.user(named: username) else { throw ServiceError.notFound("User \(username)") }
        try Accounts.checkStaffMayAct(on: user, actor: actor, role: role)
        return user
    }

    private func checkedNote(_ note: String?) throws -> String? {
        let note = note?.trimmingCharacters(in: .whitespacesAndNewlines)
        guard let note, !note.isEmpty else { return nil }
        guard note.count <= limits.reasonMaxCharacters else {
            throw ServiceError.invalidField("A note may be at most \(limits.reasonMaxCharacters) characters.")
        }
        return note
    }

    // MARK: Audit log

    /// Audit entries matching `filter`, newest first.
    public func auditLog(_ filter: AuditFilter, before: Int64? = nil, limit: Int? = nil) async throws -> [AuditEntry] {
        let limit = min(max(limit ?? 50, 1), limits.pageMaxLimit)
        return try await run { try await database.read { try $0.auditEntries(filter, before: before, limit: limit) } }
    }

    /// What people call these rooms (a group's name, "mum and dad" for a direct chat), for
    /// writing about them; rooms that are gone are left out.
    public func roomTitles(_ ids: Set<Int64>) async throws -> [Int64: String] {
        try await run { try await database.read { try $0.roomTitles(ids: ids) } }
    }
}

extension Moderation.Decision {
    var pastTense: String {
        switch self {
        case .approve: "approved"
        case .delete: "deleted"
        case .dismiss: "dismissed"
        }
    }
}

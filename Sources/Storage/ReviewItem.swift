import GRDB

/// A message waiting for (or decided by) a moderator: held or flagged by a rule, or reported.
public struct ReviewItem: Sendable, Equatable {
    /// Why a message is in the queue, from the strongest reason down.
    public enum Reason: String, Sendable, Codable, Comparable {
        case held, flagged, reported

        var strength: Int {
            switch self {
            case .held: 3
            case .flagged: 2
            case .reported: 1
            }
        }

        public static func < (lhs: Reason, rhs: Reason) -> Bool { lhs.strength < rhs.strength }
    }

    /// Where the item stands.
    public enum State: String, Sendable, Codable {
        case open, approved, dismissed, deleted
    }

    public var id: Int64
    /// Nil once the message is gone altogether (a held message a moderator deleted).
    public var messageID: Int64?
    /// The room and the sender the item is about, kept when its message goes.
    public var roomID: Int64?
    public var senderID: Int64?
    public var reason: Reason
    /// The rules that fired, one summary per line.
    public var rules: String?
    public var state: State
    public var createdAt: Int64
    public var decidedAt: Int64?
    public var decidedBy: String?
    public var note: String?
}

/// A member's report of a message.
public struct Report: Sendable, Equatable {
    public var id: Int64
    public var messageID: Int64
    public var reporter: String
    public var reason: String
    public var open: Bool
    public var createdAt: Int64
}

extension ReviewItem: FetchableRecord {
    public init(row: Row) throws {
        id = row["id"]
        messageID = row["message_id"]
        roomID = row["room_id"]
        senderID = row["sender_id"]
        reason = Reason(rawValue: row["reason"]) ?? .reported
        rules = row["rules"]
        state = State(rawValue: row["state"]) ?? .open
        createdAt = row["created_at"]
        decidedAt = row["decided_at"]
        decidedBy = row["decided_by_name"]
        note = row["note"]
    }
}

extension Report: FetchableRecord {
    public init(row: Row) throws {
        id = row["id"]
        messageID = row["message_id"]
        reporter = row["username"] ?? ""
        reason = row["reason"]
        open = row["open"]
        createdAt = row["created_at"]
    }
}

extension Store {
    private static let reviewItemColumns = "i.*, u.username AS decided_by_name"

    /// Puts a message in the review queue, or reopens and strengthens its item: the stronger of
    /// the old and new reason stays, and `rules` lines are added.
    public func openReviewItem(messageID: Int64, reason: ReviewItem.Reason, rules: String?, now: Int64) throws {
        if var item = try reviewItem(messageID: messageID) {
            item.reason = item.state == .open ? max(item.reason, reason) : reason
            let lines = [item.rules, rules].compactMap { $0 }.filter { !$0.isEmpty }
            try db.execute(
                sql: """
                    UPDATE review_items SET reason = ?, rules = ?, state = 'open', decided_at = NULL, decided_by = NULL,
                                            note = NULL
                    WHERE id = ?
                    """,
                arguments: [item.reason.rawValue, lines.isEmpty ? nil : lines.joined(separator: "\n"), item.id])
        } else {
            try db.execute(
                sql: """
                    INSERT INTO review_items (message_id, room_id, sender_id, reason, rules, created_at)
                    SELECT id, room_id, sender_id, ?, ?, ? FROM messages WHERE id = ?
                    """,
                arguments: [reason.rawValue, rules, now, messageID])
        }
    }

    /// The review item of a message, if it has one.
    public func reviewItem(messageID: Int64) throws -> ReviewItem? {
        try ReviewItem.fetchOne(
            db,
            sql: """
                SELECT \(Self.reviewItemColumns) FROM review_items i LEFT JOIN users u ON u.id = i.decided_by
                WHERE i.message_id = ?
                """,
            arguments: [messageID])
    }

    /// One review item, if it exists.
    public func reviewItem(id: Int64) throws -> ReviewItem? {
        try ReviewItem.fetchOne(
            db,
            sql: """
                SELECT \(Self.reviewItemColumns) FROM review_items i LEFT JOIN users u ON u.id = i.decided_by
                WHERE i.id = ?
                """,
            arguments: [id])
    }

    /// Review items in `states`, newest first, with ids below `before`, at most `limit`.
    public func reviewItems(states: [ReviewItem.State], before: Int64?, limit: Int) throws -> [ReviewItem] {
        try ReviewItem.fetchAll(
            db,
            sql: """
                SELECT \(Self.reviewItemColumns) FROM review_items i LEFT JOIN users u ON u.id = i.decided_by
                WHERE i.state IN (\(Self.argumentList(states.count))) AND i.id < ? ORDER BY i.id DESC LIMIT ?
                """,
            arguments: StatementArguments(states.map(\.rawValue)) + [before ?? Int64.max, limit])
    }

    /// How many review items are open.
    public func openReviewItemCount() throws -> Int {
        try Int.fetchOne(db, sql: "SELECT count(*) FROM review_items WHERE state = 'open'") ?? 0
    }

    /// Records a moderator's decision on an item and closes its open reports.
    public func decideReviewItem(
        id: Int64, state: ReviewItem.State, by userID: Int64?, note: String?, now: Int64
    ) throws {
        try db.execute(
            sql: "UPDATE review_items SET state = ?, decided_at = ?, decided_by = ?, note = ? WHERE id = ?",
            arguments: [state.rawValue, now, userID, note, id])
        try db.execute(
            sql: "UPDATE reports SET open = 0 WHERE message_id = (SELECT message_id FROM review_items WHERE id = ?)",
            arguments: [id])
    }

    /// Stores a report. A second open report by the same user of the same message throws
    /// ``StorageError/constraint(_:)``.
    public func insertReport(messageID: Int64, reporterID: Int64, reason: String, now: Int64) throws -> Int64 {
        try db.execute(
            sql: "INSERT INTO reports (message_id, reporter_id, reason, created_at) VALUES (?, ?, ?, ?)",
            arguments: [messageID, reporterID, reason, now])
        return db.lastInsertedRowID
    }

    /// The reports of a message, oldest first.
    public func reports(messageID: Int64) throws -> [Report] {
        try Report.fetchAll(
            db,
            sql: """
                SELECT r.*, u.username FROM reports r LEFT JOIN users u ON u.id = r.reporter_id
                WHERE r.message_id = ? ORDER BY r.id
                """,
            arguments: [messageID])
    }

    /// Mutes a user until `until` (milliseconds), or unmutes them when nil.
    public func setMutedUntil(userID: Int64, _ until: Int64?) throws {
        try db.execute(sql: "UPDATE users SET muted_until = ? WHERE id = ?", arguments: [until, userID])
    }

    /// Users muted beyond `now`, with the time their mute ends.
    public func mutedUsers(now: Int64) throws -> [Int64: Int64] {
        let rows = try Row.fetchAll(
            db, sql: "SELECT id, muted_until FROM users WHERE muted_until > ?", arguments: [now])
        return Dictionary(rows.map { ($0["id"], $0["muted_until"]) }, uniquingKeysWith: max)
    }
}

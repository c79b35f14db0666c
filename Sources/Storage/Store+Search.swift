import GRDB

/// One message a search found, with where its words matched.
public struct SearchHit: Sendable, Equatable {
    public var roomID: Int64
    public var seq: Int64
    public var sender: String?
    public var createdAt: Int64
    public var body: String
    /// The matched words as `[start, end)` offsets into `body`, in UTF-16 code units (as
    /// JavaScript counts: `body.slice(start, end)`).
    public var highlights: [[Int]]
}

extension Store {
    /// Where a match starts and ends in FTS5's `highlight()` output: two private-use characters
    /// no message is expected to hold (if one does, its hit has no highlights rather than wrong ones).
    static let matchStart: Unicode.Scalar = "\u{E000}"
    static let matchEnd: Unicode.Scalar = "\u{E001}"

    /// The messages matching `expression` (an FTS5 query, as ``SearchQuery`` writes them) in rooms
    /// `userID` is a member of, newest first (in the order they were sent): in `roomID` only, from
    /// `senderID` only, after the hit at seq `before`, at most `limit`. Held, deleted and system
    /// messages are not in the index.
    public func search(
        _ expression: String, userID: Int64, roomID: Int64?, senderID: Int64?, before: Int64?, limit: Int
    ) throws -> [SearchHit] {
        let rows: [Row]
        do {
            rows = try Row.fetchAll(
                db.cachedStatement(
                    sql: """
                        SELECT m.room_id, m.seq, u.username, m.created_at, m.body,
                               highlight(messages_search, 0, char(57344), char(57345)) AS marked
                        FROM messages_search s
                        JOIN messages m ON m.id = s.rowid
                        JOIN room_members rm ON rm.room_id = m.room_id AND rm.user_id = ?1
                        LEFT JOIN users u ON u.id = m.sender_id
                        WHERE messages_search MATCH ?2 AND s.rowid < ?3
                          AND (?4 IS NULL OR m.room_id = ?4) AND (?5 IS NULL OR m.sender_id = ?5)
                        ORDER BY s.rowid DESC LIMIT ?6
                        """),
                arguments: [userID, expression, try before.map(searchCursor) ?? Int64.max, roomID, senderID, limit])
        } catch let error as DatabaseError where error.resultCode == .SQLITE_ERROR {
            throw StorageError.invalidQuery(error.message ?? "unreadable search")
        }
        return rows.map { row in
            let body: String = row["body"]
            return SearchHit(
                roomID: row["room_id"], seq: row["seq"], sender: row["username"], createdAt: row["created_at"],
                body: body, highlights: Self.highlights(marked: row["marked"] ?? body, body: body))
        }
    }

    /// Indexes messages not indexed yet, oldest first, at most `limit` of them (by id); returns
    /// how many ids it went through. Later changes to them keep the index in step by trigger.
    @discardableResult
    public func indexPendingSearch(limit: Int) throws -> Int {
        let indexed =
            try Int64.fetchOne(db.cachedStatement(sql: "SELECT value FROM counters WHERE name = 'search_indexed'"))
            ?? 0
        guard let newest = try Int64.fetchOne(db.cachedStatement(sql: "SELECT max(id) FROM messages")),
            newest > indexed
        else { return 0 }
        let upTo = min(newest, indexed + Int64(limit))
        try db.cachedStatement(
            sql: """
                INSERT INTO messages_search (rowid, body)
                SELECT id, body FROM messages
                WHERE id > ? AND id <= ? AND held = 0 AND deleted_at IS NULL AND system = 0 AND body != ''
                """
        ).execute(arguments: [indexed, upTo])
        try db.cachedStatement(sql: "UPDATE counters SET value = ? WHERE name = 'search_indexed'")
            .execute(arguments: [upTo])
        return Int(upTo - indexed)
    }

    /// Where the page after the hit at seq `before` starts: that message's id. Hits come in the
    /// order messages were sent (their ids), which the index can walk backwards and stop after a
    /// page, where an order by seq meant sorting every match of a common word first.
    private func searchCursor(_ before: Int64) throws -> Int64 {
        try Int64.fetchOne(
            db.cachedStatement(
                sql: """
                    SELECT coalesce((SELECT id FROM messages WHERE seq = ?1),
                                    (SELECT max(id) + 1 FROM messages WHERE seq < ?1), 0)
                    """), arguments: [before]) ?? 0
    }

    /// The `[start, end)` UTF-16 ranges between the match markers of `marked`.
    static func highlights(marked: String, body: String) -> [[Int]] {
        guard !body.unicodeScalars.contains(where: { $0 == matchStart || $0 == matchEnd }) else { return [] }
        var ranges: [[Int]] = []
        var offset = 0
        var start: Int?
        for scalar in marked.unicodeScalars {
            switch scalar {
            case matchStart: start = offset
            case matchEnd:
                if let from = start, offset > from { ranges.append([from, offset]) }
                start = nil
            default: offset += scalar.utf16.count
            }
        }
        return ranges
    }
}

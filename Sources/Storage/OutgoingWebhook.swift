import Foundation
import GRDB

/// An outgoing webhook: a group's new messages (or only its commands) sent to a program's URL.
public struct OutgoingWebhook: Sendable, Equatable {
    public var id: Int64
    public var roomID: Int64
    public var name: String
    public var url: String
    /// What each delivery is signed with (HMAC-SHA256); shown to its maker once.
    public var secret: String
    /// Only messages starting with `/` are sent.
    public var commandsOnly: Bool
    public var createdBy: Int64?
    public var createdAt: Int64
    public var revokedAt: Int64?
}

extension OutgoingWebhook: FetchableRecord {
    public init(row: Row) throws {
        id = row["id"]
        roomID = row["room_id"]
        name = row["name"]
        url = row["url"]
        secret = row["secret"]
        commandsOnly = row["commands_only"]
        createdBy = row["created_by"]
        createdAt = row["created_at"]
        revokedAt = row["revoked_at"]
    }
}

/// One message on its way to an outgoing webhook, and afterwards its line in the delivery log.
public struct WebhookDelivery: Sendable, Equatable {
    public enum State: String, Sendable {
        case pending, delivered, failed
    }

    public var id: Int64
    public var hookID: Int64
    /// The seq of the message it carries.
    public var seq: Int64
    /// The JSON sent; cleared once the delivery is done.
    public var payload: Data?
    public var state: State
    public var attempts: Int
    public var nextAttemptAt: Int64
    public var createdAt: Int64
    public var finishedAt: Int64?
    /// The HTTP status of the last attempt, if one came back.
    public var lastStatus: Int?
    public var lastLatencyMs: Int?
    public var lastError: String?
}

extension WebhookDelivery: FetchableRecord {
    public init(row: Row) throws {
        id = row["id"]
        hookID = row["hook_id"]
        seq = row["seq"]
        payload = row["payload"]
        state = State(rawValue: row["state"]) ?? .failed
        attempts = row["attempts"]
        nextAttemptAt = row["next_attempt_at"]
        createdAt = row["created_at"]
        finishedAt = row["finished_at"]
        lastStatus = row["last_status"]
        lastLatencyMs = row["last_latency_ms"]
        lastError = row["last_error"]
    }
}

extension Store {
    public func insertOutgoingWebhook(
        roomID: Int64, name: String, url: String, secret: String, commandsOnly: Bool, createdBy: Int64?, now: Int64
    ) throws -> OutgoingWebhook {
        try db.execute(
            sql: """
                INSERT INTO outgoing_webhooks (room_id, name, url, secret, commands_only, created_by, created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [roomID, name, url, secret, commandsOnly, createdBy, now])
        guard let hook = try outgoingWebhook(id: db.lastInsertedRowID) else {
            throw StorageError.sqlite(code: 0, message: "the outgoing webhook just stored is not there")
        }
        return hook
    }

    public func outgoingWebhook(id: Int64) throws -> OutgoingWebhook? {
        try OutgoingWebhook.fetchOne(db, sql: "SELECT * FROM outgoing_webhooks WHERE id = ?", arguments: [id])
    }

    /// A room's outgoing webhooks that are not revoked, oldest first.
    public func outgoingWebhooks(roomID: Int64) throws -> [OutgoingWebhook] {
        try OutgoingWebhook.fetchAll(
            db, sql: "SELECT * FROM outgoing_webhooks WHERE room_id = ? AND revoked_at IS NULL ORDER BY id",
            arguments: [roomID])
    }

    /// Every outgoing webhook not revoked, with its room's name, by room (the admin panel's list).
    public func allOutgoingWebhooks() throws -> [(hook: OutgoingWebhook, roomName: String?)] {
        try Row.fetchAll(
            db,
            sql: """
                SELECT o.*, r.name AS room_name FROM outgoing_webhooks o JOIN rooms r ON r.id = o.room_id
                WHERE o.revoked_at IS NULL ORDER BY o.room_id, o.id
                """
        ).map { (try OutgoingWebhook(row: $0), $0["room_name"]) }
    }

    /// The rooms with an outgoing webhook (what the message writer checks each message against).
    public func roomsWithOutgoingWebhooks() throws -> Set<Int64> {
        Set(try Int64.fetchAll(db, sql: "SELECT DISTINCT room_id FROM outgoing_webhooks WHERE revoked_at IS NULL"))
    }

    public func updateOutgoingWebhook(_ hook: OutgoingWebhook) throws {
        try db.execute(
            sql: "UPDATE outgoing_webhooks SET name = ?, url = ?, commands_only = ? WHERE id = ?",
            arguments: [hook.name, hook.url, hook.commandsOnly, hook.id])
    }

    /// Revokes an outgoing webhook: nothing more is sent, and what waited is dropped from the queue.
    public func revokeOutgoingWebhook(id: Int64, now: Int64) throws {
        try db.execute(sql: "UPDATE outgoing_webhooks SET revoked_at = ? WHERE id = ?", arguments: [now, id])
        try db.execute(
            sql: """
                UPDATE webhook_deliveries SET state = 'failed', payload = NULL, finished_at = ?,
                    last_error = 'The webhook was removed before this was sent.'
                WHERE hook_id = ? AND state = 'pending'
                """,
            arguments: [now, id])
    }

    /// What the message writer needs to queue a message's deliveries: the room's hooks, its
    /// sender and the room. Cached statements: this runs on the message path.
    public func outgoingTargets(
        roomID: Int64, senderID: Int64
    ) throws -> (
        hooks: [OutgoingWebhook], sender: User?, room: Room?
    ) {
        let hooks = try OutgoingWebhook.fetchAll(
            db.cachedStatement(sql: "SELECT * FROM outgoing_webhooks WHERE room_id = ? AND revoked_at IS NULL"),
            arguments: [roomID])
        guard !hooks.isEmpty else { return ([], nil, nil) }
        let sender = try User.fetchOne(
            db.cachedStatement(sql: "SELECT * FROM users WHERE id = ?"), arguments: [senderID])
        let room = try Room.fetchOne(db.cachedStatement(sql: "SELECT * FROM rooms WHERE id = ?"), arguments: [roomID])
        return (hooks, sender, room)
    }

    /// Queues a delivery of `payload` (the message `seq`) to a hook, due now.
    public func enqueueWebhookDelivery(hookID: Int64, seq: Int64, payload: Data, now: Int64) throws {
        try db.cachedStatement(
            sql: """
                INSERT INTO webhook_deliveries (hook_id, seq, payload, next_attempt_at, created_at)
                VALUES (?, ?, ?, ?, ?)
                """
        ).execute(arguments: [hookID, seq, payload, now, now])
    }

    /// Deliveries due by `now`, oldest first, with their hooks.
    public func dueWebhookDeliveries(now: Int64, limit: Int) throws -> [(WebhookDelivery, OutgoingWebhook)] {
        try Row.fetchAll(
            db,
            sql: """
                SELECT d.*, o.id AS o_id, o.room_id, o.name, o.url, o.secret, o.commands_only, o.created_by,
                    o.created_at AS o_created_at, o.revoked_at
                FROM webhook_deliveries d JOIN outgoing_webhooks o ON o.id = d.hook_id
                WHERE d.state = 'pending' AND d.next_attempt_at <= ? ORDER BY d.next_attempt_at, d.id LIMIT ?
                """,
            arguments: [now, limit]
        ).map { row in
            let hook = OutgoingWebhook(
                id: row["o_id"], roomID: row["room_id"], name: row["name"], url: row["url"], secret: row["secret"],
                commandsOnly: row["commands_only"], createdBy: row["created_by"], createdAt: row["o_created_at"],
                revokedAt: row["revoked_at"])
            return (try WebhookDelivery(row: row), hook)
        }
    }

    /// When the next pending delivery is due, if any.
    public func nextWebhookDeliveryDue() throws -> Int64? {
        try Int64.fetchOne(db, sql: "SELECT MIN(next_attempt_at) FROM webhook_deliveries WHERE state = 'pending'")
    }

    /// Deliveries waiting to be sent (the queue's depth).
    public func pendingWebhookDeliveries() throws -> Int {
        try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM webhook_deliveries WHERE state = 'pending'") ?? 0
    }

    /// Records an attempt: `state` `.pending` tries again at `retryAt`; done clears the payload.
    public func recordWebhookAttempt(
        id: Int64, state: WebhookDelivery.State, status: Int?, latencyMs: Int?, error: String?, retryAt: Int64?,
        now: Int64
    ) throws {
        try db.execute(
            sql: """
                UPDATE webhook_deliveries SET state = ?, attempts = attempts + 1, last_status = ?,
                    last_latency_ms = ?, last_error = ?, next_attempt_at = COALESCE(?, next_attempt_at),
                    finished_at = CASE WHEN ? = 'pending' THEN NULL ELSE ? END,
                    payload = CASE WHEN ? = 'pending' THEN payload ELSE NULL END
                WHERE id = ?
                """,
            arguments: [
                state.rawValue, status, latencyMs, error, retryAt, state.rawValue, now, state.rawValue, id,
            ])
    }

    /// A hook's delivery log, newest first.
    public func webhookDeliveries(hookID: Int64, limit: Int) throws -> [WebhookDelivery] {
        try WebhookDelivery.fetchAll(
            db, sql: "SELECT * FROM webhook_deliveries WHERE hook_id = ? ORDER BY id DESC LIMIT ?",
            arguments: [hookID, limit])
    }

    /// Removes finished deliveries from the log that ended before `before`.
    @discardableResult
    public func pruneWebhookDeliveries(finishedBefore before: Int64) throws -> Int {
        try db.execute(
            sql: "DELETE FROM webhook_deliveries WHERE state != 'pending' AND finished_at < ?", arguments: [before])
        return db.changesCount
    }
}

import Foundation
import GRDB

/// An incoming webhook: a secret URL through which a program posts into a room, as a bot user.
public struct Webhook: Sendable, Equatable {
    public var id: Int64
    public var roomID: Int64
    /// The bot user its messages come from.
    public var userID: Int64
    /// That bot's one device (for the writer's idempotency by device and client id).
    public var deviceID: Int64
    public var name: String
    public var createdBy: Int64?
    public var createdAt: Int64
    public var lastUsedAt: Int64?
    public var revokedAt: Int64?
    /// The bot user's username ("hook-…"), as messages name their sender.
    public var username: String
}

extension Webhook: FetchableRecord {
    public init(row: Row) throws {
        id = row["id"]
        roomID = row["room_id"]
        userID = row["user_id"]
        deviceID = row["device_id"]
        name = row["name"]
        createdBy = row["created_by"]
        createdAt = row["created_at"]
        lastUsedAt = row["last_used_at"]
        revokedAt = row["revoked_at"]
        username = row["username"]
    }
}

extension Store {
    private static let webhookColumns = "w.*, u.username FROM webhooks w JOIN users u ON u.id = w.user_id"

    /// Stores a webhook whose secret hashes to `secretHash`, speaking as `userID` from `deviceID`.
    public func insertWebhook(
        roomID: Int64, userID: Int64, deviceID: Int64, name: String, secretHash: Data, createdBy: Int64?, now: Int64
    ) throws -> Webhook {
        try db.execute(
            sql: """
                INSERT INTO webhooks (room_id, user_id, device_id, name, secret_hash, created_by, created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [roomID, userID, deviceID, name, secretHash, createdBy, now])
        guard let webhook = try webhook(id: db.lastInsertedRowID) else {
            throw StorageError.sqlite(code: 0, message: "the webhook just stored is not there")
        }
        return webhook
    }

    public func webhook(id: Int64) throws -> Webhook? {
        try Webhook.fetchOne(db, sql: "SELECT \(Self.webhookColumns) WHERE w.id = ?", arguments: [id])
    }

    /// The webhook not revoked whose secret hashes to `secretHash`, if any.
    public func webhook(secretHash: Data) throws -> Webhook? {
        try Webhook.fetchOne(
            db, sql: "SELECT \(Self.webhookColumns) WHERE w.secret_hash = ? AND w.revoked_at IS NULL",
            arguments: [secretHash])
    }

    /// Every webhook not revoked, with its room's name, by room and age (for the admin panel).
    public func allWebhooks() throws -> [(webhook: Webhook, roomName: String?)] {
        try Row.fetchAll(
            db,
            sql: """
                SELECT w.*, u.username, r.name AS room_name FROM webhooks w
                JOIN users u ON u.id = w.user_id JOIN rooms r ON r.id = w.room_id
                WHERE w.revoked_at IS NULL ORDER BY w.room_id, w.id
                """
        ).map { (try Webhook(row: $0), $0["room_name"]) }
    }

    /// A room's webhooks that are not revoked, oldest first.
    public func webhooks(roomID: Int64) throws -> [Webhook] {
        try Webhook.fetchAll(
            db, sql: "SELECT \(Self.webhookColumns) WHERE w.room_id = ? AND w.revoked_at IS NULL ORDER BY w.id",
            arguments: [roomID])
    }

    public func renameWebhook(id: Int64, to name: String) throws {
        try db.execute(sql: "UPDATE webhooks SET name = ? WHERE id = ?", arguments: [name, id])
        try db.execute(
            sql: "UPDATE users SET display_name = ? WHERE id = (SELECT user_id FROM webhooks WHERE id = ?)",
            arguments: [name, id])
    }

    public func revokeWebhook(id: Int64, now: Int64) throws {
        try db.execute(sql: "UPDATE webhooks SET revoked_at = ? WHERE id = ?", arguments: [now, id])
    }

    public func touchWebhook(id: Int64, now: Int64) throws {
        try db.execute(sql: "UPDATE webhooks SET last_used_at = ? WHERE id = ?", arguments: [now, id])
    }

    /// Every webhook's bot user, revoked webhooks' included.
    public func webhookBotIDs() throws -> Set<Int64> {
        Set(try Int64.fetchAll(db, sql: "SELECT user_id FROM webhooks"))
    }

    /// Marks a user as a bot (a webhook's or, later, an API bot's).
    public func setBot(userID: Int64) throws {
        try db.execute(sql: "UPDATE users SET bot = 1 WHERE id = ?", arguments: [userID])
    }
}

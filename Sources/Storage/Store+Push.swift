import GRDB

/// A browser's push subscription, made for one signed-in device.
public struct PushSubscription: Sendable, Equatable {
    public var id: Int64
    public var deviceID: Int64
    public var userID: Int64
    public var endpoint: String
    public var p256dh: String
    public var auth: String
    public var createdAt: Int64
    public var lastSuccessAt: Int64?
    public var lastError: String?
    public var lastErrorAt: Int64?

    init(row: Row) {
        id = row["id"]
        deviceID = row["device_id"]
        userID = row["user_id"]
        endpoint = row["endpoint"]
        p256dh = row["p256dh"]
        auth = row["auth"]
        createdAt = row["created_at"]
        lastSuccessAt = row["last_success_at"]
        lastError = row["last_error"]
        lastErrorAt = row["last_error_at"]
    }
}

/// A push waiting in the queue: what it is about, not its text (read when it goes).
public struct QueuedPush: Sendable, Equatable {
    /// `call`: a ring (its `emoji` 📹 for video, 📞 for voice).
    public enum Kind: String, Sendable { case message, mention, reaction, link, call }

    public var id: Int64
    public var subscriptionID: Int64
    public var topic: String
    public var kind: Kind
    public var roomID: Int64?
    public var seq: Int64?
    public var actorID: Int64?
    public var emoji: String?
    /// `normal` or `high` (RFC 8030 §5.3).
    public var urgency: String
    public var createdAt: Int64
    public var expiresAt: Int64
    public var attempts: Int
    public var version: Int64

    public init(
        subscriptionID: Int64, topic: String, kind: Kind, roomID: Int64?, seq: Int64?, actorID: Int64?, emoji: String?,
        urgency: String, createdAt: Int64, expiresAt: Int64
    ) {
        (id, attempts, version) = (0, 0, 0)
        self.subscriptionID = subscriptionID
        self.topic = topic
        self.kind = kind
        self.roomID = roomID
        self.seq = seq
        self.actorID = actorID
        self.emoji = emoji
        self.urgency = urgency
        self.createdAt = createdAt
        self.expiresAt = expiresAt
    }

    init(row: Row) {
        id = row["id"]
        subscriptionID = row["subscription_id"]
        topic = row["topic"]
        kind = Kind(rawValue: row["kind"]) ?? .message
        roomID = row["room_id"]
        seq = row["seq"]
        actorID = row["actor_id"]
        emoji = row["emoji"]
        urgency = row["urgency"]
        createdAt = row["created_at"]
        expiresAt = row["expires_at"]
        attempts = row["attempts"]
        version = row["version"]
    }
}

/// A subscribed device a push may go to, with what decides whether it does.
public struct PushRecipient: Sendable {
    public var subscriptionID: Int64
    public var deviceID: Int64
    public var userID: Int64
    public var username: String
    /// Until when the user muted the room (ms), if they did.
    public var mutedUntil: Int64?

    init(row: Row) {
        subscriptionID = row["id"]
        deviceID = row["device_id"]
        userID = row["user_id"]
        username = row["username"]
        mutedUntil = row["muted_until"]
    }
}

/// What a push says of a message.
public struct PushPreview: Sendable {
    public var body: String
    public var deleted: Bool
    public var group: Bool
    public var roomName: String?
    /// Who sent it (or, for a reaction, who reacted): the name they go by, else their username.
    public var actor: String?
    /// Their avatar's public id, if they have one.
    public var actorAvatar: String?
    public var contentTypes: [String]
}

/// What a user chose about their notifications; nil fields are the server's choice.
public struct PushPreferences: Sendable, Equatable {
    public var preview: String?
    /// Quiet hours, minutes after midnight in `timeZone`.
    public var quietFrom: Int?
    public var quietTo: Int?
    /// `silent` (pushes without sound) or `off` (no pushes).
    public var quietMode: String?
    public var timeZone: String?

    public init(
        preview: String? = nil, quietFrom: Int? = nil, quietTo: Int? = nil, quietMode: String? = nil,
        timeZone: String? = nil
    ) {
        self.preview = preview
        self.quietFrom = quietFrom
        self.quietTo = quietTo
        self.quietMode = quietMode
        self.timeZone = timeZone
    }
}

/// Web Push: subscriptions, the delivery queue, and each user's preferences.
extension Store {
    private static let subscriptionColumns = """
        s.id, s.device_id, d.user_id, s.endpoint, s.p256dh, s.auth, s.created_at, s.last_success_at,
        s.last_error, s.last_error_at
        """

    /// Stores a subscription for a device; the same endpoint again (the browser subscribing anew,
    /// or for another account) replaces its keys and moves it to this device.
    public func savePushSubscription(
        deviceID: Int64, endpoint: String, p256dh: String, auth: String, now: Int64
    ) throws -> PushSubscription {
        try db.execute(
            sql: """
                INSERT INTO push_subscriptions (device_id, endpoint, p256dh, auth, created_at) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT (endpoint) DO UPDATE SET device_id = excluded.device_id, p256dh = excluded.p256dh,
                    auth = excluded.auth, last_error = NULL, last_error_at = NULL
                """,
            arguments: [deviceID, endpoint, p256dh, auth, now])
        guard let saved = try pushSubscription(endpoint: endpoint) else {
            throw StorageError.constraint("push subscription not stored")
        }
        return saved
    }

    public func pushSubscription(endpoint: String) throws -> PushSubscription? {
        try Row.fetchOne(
            db,
            sql: """
                SELECT \(Self.subscriptionColumns) FROM push_subscriptions s JOIN devices d ON d.id = s.device_id
                WHERE s.endpoint = ?
                """, arguments: [endpoint]
        ).map(PushSubscription.init(row:))
    }

    public func pushSubscription(id: Int64) throws -> PushSubscription? {
        try Row.fetchOne(
            db.cachedStatement(
                sql: """
                    SELECT \(Self.subscriptionColumns) FROM push_subscriptions s JOIN devices d ON d.id = s.device_id
                    WHERE s.id = ?
                    """), arguments: [id]
        ).map(PushSubscription.init(row:))
    }

    /// A user's subscriptions (every device), oldest first; every user's when `userID` is nil.
    public func pushSubscriptions(userID: Int64?) throws -> [PushSubscription] {
        try Row.fetchAll(
            db,
            sql: """
                SELECT \(Self.subscriptionColumns) FROM push_subscriptions s JOIN devices d ON d.id = s.device_id
                WHERE ?1 IS NULL OR d.user_id = ?1 ORDER BY s.id
                """, arguments: [userID]
        ).map(PushSubscription.init(row:))
    }

    /// How many subscriptions a device has, other than `endpoint`.
    public func pushSubscriptionCount(deviceID: Int64, besides endpoint: String) throws -> Int {
        try Int.fetchOne(
            db, sql: "SELECT count(*) FROM push_subscriptions WHERE device_id = ? AND endpoint != ?",
            arguments: [deviceID, endpoint]) ?? 0
    }

    /// Removes one of a device's subscriptions; false if it had none with that endpoint.
    public func deletePushSubscription(deviceID: Int64, endpoint: String) throws -> Bool {
        try db.execute(
            sql: "DELETE FROM push_subscriptions WHERE device_id = ? AND endpoint = ?", arguments: [deviceID, endpoint])
        return changes > 0
    }

    /// Removes a subscription the push service says is gone (404, 410), with its queued pushes.
    public func deletePushSubscription(id: Int64) throws {
        try db.execute(sql: "DELETE FROM push_subscriptions WHERE id = ?", arguments: [id])
    }

    /// Removes every subscription (the VAPID key they were made for is gone); returns how many.
    public func deleteAllPushSubscriptions() throws -> Int {
        try db.execute(sql: "DELETE FROM push_subscriptions")
        return changes
    }

    /// The users with at least one subscription.
    public func pushSubscriberIDs() throws -> Set<Int64> {
        Set(
            try Int64.fetchAll(
                db, sql: "SELECT DISTINCT d.user_id FROM push_subscriptions s JOIN devices d ON d.id = s.device_id"))
    }

    /// The subscribed devices of a room's members, but `exceptUserID`'s.
    public func pushRecipients(roomID: Int64, exceptUserID: Int64) throws -> [PushRecipient] {
        try Row.fetchAll(
            db.cachedStatement(
                sql: """
                    SELECT s.id, s.device_id, d.user_id, u.username, rm.muted_until FROM room_members rm
                    JOIN devices d ON d.user_id = rm.user_id JOIN push_subscriptions s ON s.device_id = d.id
                    JOIN users u ON u.id = rm.user_id
                    WHERE rm.room_id = ? AND rm.user_id != ?
                    """),
            arguments: [roomID, exceptUserID]
        ).map(PushRecipient.init(row:))
    }

    /// The subscribed devices of one user (with the room's mute, when a room is named).
    public func pushRecipients(userID: Int64, roomID: Int64? = nil) throws -> [PushRecipient] {
        try Row.fetchAll(
            db,
            sql: """
                SELECT s.id, s.device_id, d.user_id, u.username,
                    (SELECT muted_until FROM room_members WHERE room_id = ?2 AND user_id = ?1) AS muted_until
                FROM devices d JOIN push_subscriptions s ON s.device_id = d.id JOIN users u ON u.id = d.user_id
                WHERE d.user_id = ?1
                """, arguments: [userID, roomID]
        ).map(PushRecipient.init(row:))
    }

    /// How many pushes wait.
    public func pushQueueLength() throws -> Int {
        try Int.fetchOne(db.cachedStatement(sql: "SELECT count(*) FROM push_queue")) ?? 0
    }

    /// Queues a push, replacing one waiting for the same subscription and topic; returns whether
    /// it added a row (false: it replaced one).
    public func enqueuePush(_ push: QueuedPush) throws -> Bool {
        let replaced =
            try Int.fetchOne(
                db.cachedStatement(sql: "SELECT count(*) FROM push_queue WHERE subscription_id = ? AND topic = ?"),
                arguments: [push.subscriptionID, push.topic]) ?? 0
        try db.cachedStatement(
            sql: """
                INSERT INTO push_queue (subscription_id, topic, kind, room_id, seq, actor_id, emoji, urgency, created_at,
                    expires_at, next_attempt_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (subscription_id, topic) DO UPDATE SET kind = excluded.kind, room_id = excluded.room_id,
                    seq = excluded.seq, actor_id = excluded.actor_id, emoji = excluded.emoji,
                    urgency = CASE WHEN push_queue.urgency = 'high' AND push_queue.attempts = 0 THEN 'high'
                        ELSE excluded.urgency END,
                    created_at = excluded.created_at, expires_at = excluded.expires_at,
                    next_attempt_at = min(push_queue.next_attempt_at, excluded.next_attempt_at),
                    version = push_queue.version + 1
                """
        ).execute(arguments: [
            push.subscriptionID, push.topic, push.kind.rawValue, push.roomID, push.seq, push.actorID, push.emoji,
            push.urgency, push.createdAt, push.expiresAt, push.createdAt,
        ])
        return replaced == 0
    }

    /// Pushes due by `now` that have not expired, soonest first.
    public func duePushes(now: Int64, limit: Int) throws -> [QueuedPush] {
        try Row.fetchAll(
            db.cachedStatement(
                sql: """
                    SELECT * FROM push_queue WHERE next_attempt_at <= ?1 AND expires_at > ?1
                    ORDER BY next_attempt_at, id LIMIT ?2
                    """),
            arguments: [now, limit]
        ).map(QueuedPush.init(row:))
    }

    /// Removes the pushes whose time to live is over.
    public func deleteExpiredPushes(now: Int64) throws {
        try db.cachedStatement(sql: "DELETE FROM push_queue WHERE expires_at <= ?").execute(arguments: [now])
    }

    /// When the next queued push is due, if any is queued.
    public func nextPushDue() throws -> Int64? {
        try Int64.fetchOne(db.cachedStatement(sql: "SELECT min(next_attempt_at) FROM push_queue"))
    }

    /// How many pushes wait, and how many of them have failed at least once.
    public func pushQueueCounts() throws -> (waiting: Int, retrying: Int) {
        let row = try Row.fetchOne(
            db, sql: "SELECT count(*) AS waiting, count(*) FILTER (WHERE attempts > 0) AS retrying FROM push_queue")
        return (row?["waiting"] ?? 0, row?["retrying"] ?? 0)
    }

    /// Removes a push that went (or never will), unless it was replaced meanwhile.
    public func finishPush(id: Int64, version: Int64) throws {
        try db.cachedStatement(sql: "DELETE FROM push_queue WHERE id = ? AND version = ?").execute(arguments: [
            id, version,
        ])
    }

    /// Tries a push again at `at`, unless it was replaced meanwhile (the newer one goes as queued).
    public func retryPush(id: Int64, version: Int64, at: Int64) throws {
        try db.cachedStatement(
            sql: "UPDATE push_queue SET attempts = attempts + 1, next_attempt_at = ? WHERE id = ? AND version = ?"
        ).execute(arguments: [at, id, version])
    }

    public func recordPushSuccess(subscriptionID: Int64, now: Int64) throws {
        try db.cachedStatement(sql: "UPDATE push_subscriptions SET last_success_at = ? WHERE id = ?")
            .execute(arguments: [now, subscriptionID])
    }

    public func recordPushError(subscriptionID: Int64, error: String, now: Int64) throws {
        try db.execute(
            sql: "UPDATE push_subscriptions SET last_error = ?, last_error_at = ? WHERE id = ?",
            arguments: [String(error.prefix(300)), now, subscriptionID])
    }

    public func pushPreferences(userID: Int64) throws -> PushPreferences {
        let row = try Row.fetchOne(
            db.cachedStatement(
                sql: "SELECT push_preview, quiet_from, quiet_to, quiet_mode, time_zone FROM users WHERE id = ?"),
            arguments: [userID])
        return PushPreferences(
            preview: row?["push_preview"], quietFrom: row?["quiet_from"], quietTo: row?["quiet_to"],
            quietMode: row?["quiet_mode"], timeZone: row?["time_zone"])
    }

    /// What a push says of a published message, in one cached query: its text, sender (and avatar), room and
    /// the types of its files. Nil when there is no such published message.
    public func pushPreview(roomID: Int64, seq: Int64, actorID: Int64?) throws -> PushPreview? {
        try Row.fetchOne(
            db.cachedStatement(
                sql: """
                    SELECT m.body, m.deleted_at IS NOT NULL AS deleted, r.kind, r.name,
                        CASE WHEN a.id IS NULL THEN coalesce(u.display_name, u.username)
                             ELSE coalesce(a.display_name, a.username) END AS actor,
                        CASE WHEN a.id IS NULL THEN u.avatar ELSE a.avatar END AS avatar,
                        (SELECT group_concat(content_type, ' ') FROM attachments WHERE message_id = m.id) AS types
                    FROM messages m JOIN rooms r ON r.id = m.room_id LEFT JOIN users u ON u.id = m.sender_id
                    LEFT JOIN users a ON a.id = ?3
                    WHERE m.room_id = ?1 AND m.seq = ?2 AND m.held = 0
                    """),
            arguments: [roomID, seq, actorID]
        ).map {
            PushPreview(
                body: $0["body"], deleted: $0["deleted"], group: $0["kind"] == "group", roomName: $0["name"],
                actor: $0["actor"], actorAvatar: $0["avatar"],
                contentTypes: ($0["types"] as String?)?.split(separator: " ").map(String.init) ?? [])
        }
    }

    /// The kind of a room ("direct" or "group"), if it exists; a cached query.
    public func roomKind(id: Int64) throws -> String? {
        try String.fetchOne(db.cachedStatement(sql: "SELECT kind FROM rooms WHERE id = ?"), arguments: [id])
    }

    public func setPushPreferences(_ preferences: PushPreferences, userID: Int64) throws {
        try db.execute(
            sql: """
                UPDATE users SET push_preview = ?, quiet_from = ?, quiet_to = ?, quiet_mode = ?, time_zone = ? WHERE id = ?
                """,
            arguments: [
                preferences.preview, preferences.quietFrom, preferences.quietTo, preferences.quietMode,
                preferences.timeZone, userID,
            ])
    }

    /// Each room's unread messages for a user (from others, published, not deleted), by room;
    /// each count stops at `cap` (a notification says "100+", never counts thousands).
    public func unreadCounts(userID: Int64, cap: Int = 100) throws -> [Int64: Int] {
        var counts: [Int64: Int] = [:]
        for row in try Row.fetchAll(
            db.cachedStatement(
                sql: """
                    SELECT rm.room_id, (
                        SELECT count(*) FROM (
                            SELECT 1 FROM messages m
                            WHERE m.room_id = rm.room_id AND m.seq > rm.last_read_seq AND m.sender_id IS NOT ?1
                                AND m.held = 0 AND m.deleted_at IS NULL AND m.system = 0
                            LIMIT ?2)
                    ) AS unread
                    FROM room_members rm WHERE rm.user_id = ?1
                    """),
            arguments: [userID, cap])
        where row["unread"] as Int > 0 {
            counts[row["room_id"]] = row["unread"]
        }
        return counts
    }

    /// Mutes a room for one member until `until` (ms; nil unmutes).
    public func setMutedUntil(_ until: Int64?, roomID: Int64, userID: Int64) throws {
        try db.execute(
            sql: "UPDATE room_members SET muted_until = ? WHERE room_id = ? AND user_id = ?",
            arguments: [until, roomID, userID])
    }
}

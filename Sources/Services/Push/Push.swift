import Foundation
import Storage
import WebPush

/// Web Push for the devices that have no socket open (docs/PROTOCOL.md, "Push notifications"):
/// the server's VAPID key, each device's subscriptions, each user's preferences, and what the
/// admin sees of it. Which devices get a push is decided by ``PushPlanner`` in the message
/// writer's transaction; ``PushDelivery`` sends them.
public final class Push: ContextualService {
    /// The setting that keeps the VAPID private key (base64 of the 32-byte scalar).
    static let keySetting = "vapid_private_key"
    /// The setting that keeps the admin's narrowing of notification previews.
    static let previewSetting = "push_preview"

    let context: ServiceContext
    let settings: HearthConfiguration.PushSettings
    let planner: PushPlanner

    init(context: ServiceContext, settings: HearthConfiguration.PushSettings, planner: PushPlanner) {
        self.context = context
        self.settings = settings
        self.planner = planner
    }

    /// The public key browsers subscribe with (`applicationServerKey`): the uncompressed P-256
    /// point, base64url. Made at the first start (or first use) and kept in the database, so backups carry it.
    public func publicKey() async throws -> String {
        try await run { try await Self.vapidKey(database).publicKey }
    }

    /// The VAPID key, read from the database each time (`hearth push rotate-keys` may replace it
    /// while the server runs); made and stored the first time, in a write only then.
    static func vapidKey(_ database: AppDatabase) async throws -> VAPIDKey {
        if let key = try await database.read({ try storedKey($0) }) { return key }
        return try await database.write { store in
            if let key = try storedKey(store) { return key }
            let key = VAPIDKey()
            try store.setSetting(keySetting, to: key.rawRepresentation.base64EncodedString())
            return key
        }
    }

    private static func storedKey(_ store: Store) throws -> VAPIDKey? {
        guard let stored = try store.setting(keySetting), let raw = Data(base64Encoded: stored) else { return nil }
        return try? VAPIDKey(rawRepresentation: raw)
    }

    /// Replaces the VAPID key pair. Every subscription was made for the old public key, so every
    /// one goes with it (browsers subscribe again with the new key when the app next opens).
    /// Returns how many were dropped.
    public func rotateKeys(by actor: AuditActor) async throws -> Int {
        let now = now
        let dropped = try await run {
            try await database.write { store in
                let key = VAPIDKey()
                try store.setSetting(Self.keySetting, to: key.rawRepresentation.base64EncodedString())
                let dropped = try store.deleteAllPushSubscriptions()
                try store.audit(
                    actor, "push_keys_rotated", target: nil, detail: "\(dropped) subscriptions dropped", now: now)
                return dropped
            }
        }
        planner.forgetAll()
        return dropped
    }

    /// Subscribes the session's device (`POST /api/v1/push/subscriptions`). The endpoint must be
    /// https (or http to loopback where allowed), the keys well formed, and the device within
    /// its number of subscriptions; the same endpoint again updates its keys.
    public func subscribe(
        _ session: Session, endpoint: String, p256dh: String, auth: String
    ) async throws
        -> PushSubscription
    {
        do {
            _ = try PushEndpoint.check(endpoint, allowLoopbackHTTP: settings.allowLoopbackHTTP)
            _ = try PushSubscriberKeys(p256dh: p256dh, auth: auth)
        } catch {
            throw ServiceError.invalidField("The push subscription is not valid: \(error.description).")
        }
        let now = now
        let limit = settings.subscriptionsPerDevice
        let saved = try await run {
            try await database.write { store in
                guard try store.pushSubscriptionCount(deviceID: session.device.id, besides: endpoint) < limit else {
                    throw ServiceError.tooManySubscriptions(limit: limit)
                }
                return try store.savePushSubscription(
                    deviceID: session.device.id, endpoint: endpoint, p256dh: p256dh, auth: auth, now: now)
            }
        }
        planner.subscribed(userID: session.user.id)
        logger.info(
            "push subscription saved", metadata: ["user": "\(session.user.username)", "device": "\(session.device.id)"])
        return saved
    }

    /// Removes one of the session's device's subscriptions (`DELETE /api/v1/push/subscriptions`).
    public func unsubscribe(_ session: Session, endpoint: String) async throws {
        let removed = try await run {
            try await database.write { store in
                try store.deletePushSubscription(deviceID: session.device.id, endpoint: endpoint)
            }
        }
        guard removed else { throw ServiceError.notFound("Subscription") }
    }

    /// What the user chose, and what the server allows.
    public struct Preferences: Sendable, Equatable {
        public var stored: PushPreferences
        /// The widest preview the server allows (the admin's setting).
        public var serverPreview: HearthConfiguration.PushSettings.Preview
    }

    public func preferences(of user: User) async throws -> Preferences {
        let defaultPreview = settings.preview
        return try await run {
            try await database.read { store in
                Preferences(
                    stored: try store.pushPreferences(userID: user.id),
                    serverPreview: try Self.serverPreview(store, default: defaultPreview))
            }
        }
    }

    /// Stores the user's choices (`PATCH /api/v1/me/push`), each checked.
    public func setPreferences(_ wanted: PushPreferences, of user: User) async throws -> Preferences {
        let preferences = wanted
        if let preview = preferences.preview, HearthConfiguration.PushSettings.Preview(rawValue: preview) == nil {
            throw ServiceError.invalidField("preview must be full, sender or none.")
        }
        if let mode = preferences.quietMode, !["silent", "off"].contains(mode) {
            throw ServiceError.invalidField("quietHours.mode must be silent or off.")
        }
        for minutes in [preferences.quietFrom, preferences.quietTo].compactMap(\.self)
        where !(0..<1440).contains(minutes) {
            throw ServiceError.invalidField("Quiet hours are times of day, 00:00 to 23:59.")
        }
        if (preferences.quietFrom == nil) != (preferences.quietTo == nil) {
            throw ServiceError.invalidField("Quiet hours need both from and to.")
        }
        if let zone = preferences.timeZone, zone.count > 64 || TimeZone(identifier: zone) == nil {
            throw ServiceError.invalidField("timeZone must be an IANA time zone such as Europe/London.")
        }
        try await run {
            try await database.write { store in try store.setPushPreferences(preferences, userID: user.id) }
        }
        return try await self.preferences(of: user)
    }

    /// The admin's narrowing of previews, for every user (audited).
    public func setServerPreview(_ preview: HearthConfiguration.PushSettings.Preview, by actor: AuditActor) async throws
    {
        let now = now
        try await run {
            try await database.write { store in
                try store.setSetting(Self.previewSetting, to: preview.rawValue)
                try store.audit(
                    actor, "setting_changed", target: "notification previews", detail: preview.rawValue, now: now)
            }
        }
    }

    /// The most a notification may show, as the admin set it (else `HEARTH_PUSH_PREVIEW`).
    public func serverPreview() async throws -> HearthConfiguration.PushSettings.Preview {
        let preview = settings.preview
        return try await run { try await database.read { try Self.serverPreview($0, default: preview) } }
    }

    static func serverPreview(
        _ store: Store, default preview: HearthConfiguration.PushSettings.Preview
    ) throws
        -> HearthConfiguration.PushSettings.Preview
    {
        try store.setting(previewSetting).flatMap(HearthConfiguration.PushSettings.Preview.init(rawValue:)) ?? preview
    }

    /// A user's subscriptions with their last delivery and error, for the admin panel.
    public func subscriptions(of userID: Int64?) async throws -> [PushSubscription] {
        try await run { try await database.read { try $0.pushSubscriptions(userID: userID) } }
    }

    /// How many pushes wait, and how many of them are being retried.
    public func queueHealth() async throws -> (waiting: Int, retrying: Int) {
        try await run { try await database.read { try $0.pushQueueCounts() } }
    }
}

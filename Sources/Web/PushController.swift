import Foundation
import Hummingbird
import Services
import Storage

/// Web Push: the server's public key, a device's subscriptions, and the user's notification
/// choices (docs/PROTOCOL.md, "Push notifications").
struct PushController: Sendable {
    let push: Push
    let authenticator: SessionAuthenticator

    func addRoutes(to api: RouterGroup<AppRequestContext>) {
        api.get("push/key", use: key)
        let signedIn = api.signedIn(authenticator)
        signedIn.post("push/subscriptions", use: subscribe)
        signedIn.delete("push/subscriptions", use: unsubscribe)
        signedIn.get("me/push", use: preferences)
        signedIn.patch("me/push", use: setPreferences)
    }

    /// `GET /api/v1/push/key` — `{publicKey}`, the VAPID key browsers subscribe with.
    @Sendable func key(_ request: Request, context: AppRequestContext) async throws -> Response {
        try .json(["publicKey": try await push.publicKey()])
    }

    struct SubscriptionBody: Decodable {
        struct Keys: Decodable {
            let p256dh: String
            let auth: String
        }
        let endpoint: String
        let keys: Keys
    }

    struct SubscriptionJSON: Encodable {
        let id: Int64
        let endpoint: String
        let createdAt: Int64
    }

    /// `POST /api/v1/push/subscriptions` `{endpoint, keys:{p256dh, auth}}` (a `PushSubscription`'s
    /// JSON) — subscribes this device: `201 {subscription}`.
    @Sendable func subscribe(_ request: Request, context: AppRequestContext) async throws -> Response {
        let session = try context.signedIn()
        let body = try await request.decodeJSON(SubscriptionBody.self, limit: 8 * 1024)
        let saved = try await push.subscribe(
            session, endpoint: body.endpoint, p256dh: body.keys.p256dh, auth: body.keys.auth)
        return try .json(
            ["subscription": SubscriptionJSON(id: saved.id, endpoint: saved.endpoint, createdAt: saved.createdAt)],
            status: .created)
    }

    struct EndpointBody: Decodable {
        let endpoint: String
    }

    /// `DELETE /api/v1/push/subscriptions` `{endpoint}` — this device's subscription goes: 204.
    @Sendable func unsubscribe(_ request: Request, context: AppRequestContext) async throws -> Response {
        let session = try context.signedIn()
        let body = try await request.decodeJSON(EndpointBody.self, limit: 8 * 1024)
        try await push.unsubscribe(session, endpoint: body.endpoint)
        return Response(status: .noContent)
    }

    /// The user's choices as the API shows them.
    struct PreferencesJSON: Encodable {
        struct QuietHours: Encodable {
            let from: String
            let to: String
            let mode: String
        }
        let preview: String?
        let serverPreview: String
        let quietHours: QuietHours?
        let timeZone: String?

        init(_ preferences: Push.Preferences) {
            let stored = preferences.stored
            preview = stored.preview
            serverPreview = preferences.serverPreview.rawValue
            if let from = stored.quietFrom, let to = stored.quietTo {
                quietHours = QuietHours(
                    from: Self.clock(from), to: Self.clock(to), mode: stored.quietMode ?? "silent")
            } else {
                quietHours = nil
            }
            timeZone = stored.timeZone
        }

        static func clock(_ minutes: Int) -> String {
            String(format: "%02d:%02d", minutes / 60, minutes % 60)
        }
    }

    /// `GET /api/v1/me/push` — `{preview, serverPreview, quietHours, timeZone}`.
    @Sendable func preferences(_ request: Request, context: AppRequestContext) async throws -> Response {
        let session = try context.signedIn()
        return try .json(PreferencesJSON(try await push.preferences(of: session.user)))
    }

    /// A change to the choices: each field present replaces the stored one (`null` clears it).
    struct PreferencesBody: Decodable {
        struct QuietHours: Decodable {
            let from: String
            let to: String
            let mode: String?
        }
        var preview: String??
        var quietHours: QuietHours??
        var timeZone: String??

        enum CodingKeys: String, CodingKey { case preview, quietHours, timeZone }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            func field<T: Decodable>(_ key: CodingKeys, _ type: T.Type) throws -> T?? {
                guard container.contains(key) else { return nil }
                return .some(try container.decodeNil(forKey: key) ? nil : container.decode(T.self, forKey: key))
            }
            preview = try field(.preview, String.self)
            quietHours = try field(.quietHours, QuietHours.self)
            timeZone = try field(.timeZone, String.self)
        }
    }

    /// `PATCH /api/v1/me/push` `{preview?, quietHours?: {from, to, mode}, timeZone?}` — the new
    /// choices, as `GET` returns them.
    @Sendable func setPreferences(_ request: Request, context: AppRequestContext) async throws -> Response {
        let session = try context.signedIn()
        let body = try await request.decodeJSON(PreferencesBody.self, limit: 8 * 1024)
        var stored = try await push.preferences(of: session.user).stored
        if let preview = body.preview { stored.preview = preview }
        if let quiet = body.quietHours {
            if let quiet {
                stored.quietFrom = try Self.minutes(quiet.from)
                stored.quietTo = try Self.minutes(quiet.to)
                stored.quietMode = quiet.mode ?? "silent"
            } else {
                (stored.quietFrom, stored.quietTo, stored.quietMode) = (nil, nil, nil)
            }
        }
        if let zone = body.timeZone { stored.timeZone = zone }
        return try .json(PreferencesJSON(try await push.setPreferences(stored, of: session.user)))
    }

    /// "22:30" as minutes after midnight.
    static func minutes(_ clock: String) throws -> Int {
        let parts = clock.split(separator: ":")
        guard parts.count == 2, parts[0].count <= 2, parts[1].count == 2, let hours = Int(parts[0]),
            let minutes = Int(parts[1]), (0..<24).contains(hours), (0..<60).contains(minutes)
        else { throw ServiceError.invalidField("Quiet hours are times of day as HH:MM, such as 22:30.") }
        return hours * 60 + minutes
    }
}

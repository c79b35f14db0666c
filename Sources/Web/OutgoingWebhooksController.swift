import Foundation
import Hummingbird
import Services
import Storage

/// Outgoing webhooks: made, listed, changed and removed by a group's admins, with each one's
/// delivery log.
struct OutgoingWebhooksController: Sendable {
    let webhooks: OutgoingWebhooks
    let authenticator: SessionAuthenticator

    func addRoutes(to api: RouterGroup<AppRequestContext>) {
        let signedIn = api.signedIn(authenticator)
        signedIn.post("rooms/{id}/outgoing-webhooks", use: create)
        signedIn.get("rooms/{id}/outgoing-webhooks", use: list)
        signedIn.patch("rooms/{id}/outgoing-webhooks/{hook}", use: update)
        signedIn.delete("rooms/{id}/outgoing-webhooks/{hook}", use: revoke)
        signedIn.get("rooms/{id}/outgoing-webhooks/{hook}/deliveries", use: deliveries)
    }

    struct CreateBody: Decodable {
        let name: String
        let url: String
        let commandsOnly: Bool?
    }

    struct UpdateBody: Decodable {
        let name: String?
        let url: String?
        let commandsOnly: Bool?
    }

    /// A line of the delivery log: `{id, seq, state, attempts, createdAt, finishedAt,
    /// nextAttemptAt, status, latencyMs, error}`.
    struct DeliveryJSON: Encodable {
        let id: Int64
        let seq: Int64
        let state: String
        let attempts: Int
        let createdAt: Int64
        let finishedAt: Int64?
        let nextAttemptAt: Int64?
        let status: Int?
        let latencyMs: Int?
        let error: String?

        init(_ delivery: WebhookDelivery) {
            id = delivery.id
            seq = delivery.seq
            state = delivery.state.rawValue
            attempts = delivery.attempts
            createdAt = delivery.createdAt
            finishedAt = delivery.finishedAt
            nextAttemptAt = delivery.state == .pending ? delivery.nextAttemptAt : nil
            status = delivery.lastStatus
            latencyMs = delivery.lastLatencyMs
            error = delivery.lastError
        }
    }

    /// A hook as the API shows it (never its secret): `{id, name, url, commandsOnly, createdAt,
    /// lastDelivery}`.
    struct HookJSON: Encodable {
        let id: Int64
        let name: String
        let url: String
        let commandsOnly: Bool
        let createdAt: Int64
        let lastDelivery: DeliveryJSON?

        init(_ hook: OutgoingWebhook, last: WebhookDelivery? = nil) {
            id = hook.id
            name = hook.name
            url = hook.url
            commandsOnly = hook.commandsOnly
            createdAt = hook.createdAt
            lastDelivery = last.map(DeliveryJSON.init)
        }
    }

    struct CreatedJSON: Encodable {
        let id: Int64
        let secret: String
        let webhook: HookJSON
    }

    /// `POST /api/v1/rooms/{id}/outgoing-webhooks {name, url, commandsOnly?}` — `201 {id, secret,
    /// webhook}`; the signing secret is shown only here.
    @Sendable func create(_ request: Request, context: AppRequestContext) async throws -> Response {
        let session = try context.signedIn()
        let body = try await request.decodeJSON(CreateBody.self, limit: 16 * 1024)
        let created = try await webhooks.create(
            in: try context.roomID(), name: body.name, url: body.url, commandsOnly: body.commandsOnly ?? false,
            by: session.user)
        return try .json(
            CreatedJSON(id: created.hook.id, secret: created.secret, webhook: HookJSON(created.hook)), status: .created)
    }

    /// `GET /api/v1/rooms/{id}/outgoing-webhooks` — `{webhooks: [...]}`, to the group's admins.
    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> Response {
        let session = try context.signedIn()
        let found = try await webhooks.list(in: try context.roomID(), by: session.user)
        return try .json(["webhooks": found.map { HookJSON($0.hook, last: $0.last) }])
    }

    /// `PATCH /api/v1/rooms/{id}/outgoing-webhooks/{hook} {name?, url?, commandsOnly?}` — `{webhook}`.
    @Sendable func update(_ request: Request, context: AppRequestContext) async throws -> Response {
        let session = try context.signedIn()
        let body = try await request.decodeJSON(UpdateBody.self, limit: 16 * 1024)
        let hook = try await webhooks.update(
            try context.hookID(), in: try context.roomID(), name: body.name, url: body.url,
            commandsOnly: body.commandsOnly, by: session.user)
        return try .json(["webhook": HookJSON(hook)])
    }

    /// `DELETE /api/v1/rooms/{id}/outgoing-webhooks/{hook}` — `204`; what waited is not sent.
    @Sendable func revoke(_ request: Request, context: AppRequestContext) async throws -> Response {
        let session = try context.signedIn()
        try await webhooks.revoke(try context.hookID(), in: try context.roomID(), by: session.user)
        return Response(status: .noContent)
    }

    /// `GET /api/v1/rooms/{id}/outgoing-webhooks/{hook}/deliveries` — `{deliveries: [...]}`,
    /// newest first (the last 50).
    @Sendable func deliveries(_ request: Request, context: AppRequestContext) async throws -> Response {
        let session = try context.signedIn()
        let log = try await webhooks.deliveries(try context.hookID(), in: try context.roomID(), by: session.user)
        return try .json(["deliveries": log.map(DeliveryJSON.init)])
    }
}

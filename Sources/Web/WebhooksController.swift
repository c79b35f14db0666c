import Foundation
import HTTPTypes
import Hummingbird
import Services
import Storage

/// Incoming webhooks: made, listed, renamed and revoked by a group's admins; posted to by
/// programs at `POST /api/v1/hooks/{secret}` in the formats they already speak.
struct WebhooksController: Sendable {
    let webhooks: Webhooks
    let authenticator: SessionAuthenticator
    let limits: HearthConfiguration.Limits
    let publicURL: @Sendable () async -> String

    func addRoutes(to api: RouterGroup<AppRequestContext>) {
        api.post("hooks/{secret}", use: post)
        let signedIn = api.signedIn(authenticator)
        signedIn.post("rooms/{id}/webhooks", use: create)
        signedIn.get("rooms/{id}/webhooks", use: list)
        signedIn.patch("rooms/{id}/webhooks/{hook}", use: rename)
        signedIn.delete("rooms/{id}/webhooks/{hook}", use: revoke)
    }

    struct NameBody: Decodable {
        let name: String
    }

    struct CreateBody: Decodable {
        let name: String
        let avatar: String?
    }

    /// A webhook as the API shows it: `{id, name, username, createdAt, lastUsedAt}` (`username`
    /// is its bot's, as its messages' `from` says).
    struct WebhookJSON: Encodable {
        let id: Int64
        let name: String
        let username: String
        let createdAt: Int64
        let lastUsedAt: Int64?

        init(_ webhook: Webhook) {
            id = webhook.id
            name = webhook.name
            username = webhook.username
            createdAt = webhook.createdAt
            lastUsedAt = webhook.lastUsedAt
        }
    }

    struct CreatedJSON: Encodable {
        let id: Int64
        let url: String
        let webhook: WebhookJSON
    }

    /// `POST /api/v1/rooms/{id}/webhooks {name, avatar?}` — `201 {id, url, webhook}`; the URL
    /// (with its secret) is shown only here. `avatar` is one of the caller's uploaded images.
    @Sendable func create(_ request: Request, context: AppRequestContext) async throws -> Response {
        let session = try context.signedIn()
        let body = try await request.decodeJSON(CreateBody.self, limit: 16 * 1024)
        let created = try await webhooks.create(
            in: try roomID(context), name: body.name, avatar: body.avatar, by: session.user)
        let url = await publicURL() + "/api/v1/hooks/" + created.secret
        return try .json(
            CreatedJSON(id: created.webhook.id, url: url, webhook: WebhookJSON(created.webhook)), status: .created)
    }

    /// `GET /api/v1/rooms/{id}/webhooks` — `{webhooks: [...]}`, to the room's members.
    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> Response {
        let session = try context.signedIn()
        let found = try await webhooks.list(in: try roomID(context), by: session.user)
        return try .json(["webhooks": found.map(WebhookJSON.init)])
    }

    /// `PATCH /api/v1/rooms/{id}/webhooks/{hook} {name}` — `{webhook}`.
    @Sendable func rename(_ request: Request, context: AppRequestContext) async throws -> Response {
        let session = try context.signedIn()
        let body = try await request.decodeJSON(NameBody.self, limit: 16 * 1024)
        let renamed = try await webhooks.rename(
            try hookID(context), in: try roomID(context), to: body.name, by: session.user)
        return try .json(["webhook": WebhookJSON(renamed)])
    }

    /// `DELETE /api/v1/rooms/{id}/webhooks/{hook}` — `204`; the URL stops working at once.
    @Sendable func revoke(_ request: Request, context: AppRequestContext) async throws -> Response {
        let session = try context.signedIn()
        try await webhooks.revoke(try hookID(context), in: try roomID(context), by: session.user)
        return Response(status: .noContent)
    }

    /// `POST /api/v1/hooks/{secret}` — posts a message as the webhook: `200 {ok, seq, held}`.
    /// A wrong or revoked secret is `404` whatever the body.
    @Sendable func post(_ request: Request, context: AppRequestContext) async throws -> Response {
        let limit = limits.webhookBodyBytes
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: limit)
        } catch {
            throw ServiceError.invalidField("The request is larger than \(limit) bytes.")
        }
        let text = try WebhookPayload.text(
            contentType: request.headers[.contentType],
            title: request.headers[HTTPField.Name("Title")!]
                ?? request.headers[HTTPField.Name("X-Title")!], body: Array(buffer: buffer))
        let posted = try await webhooks.post(secret: context.parameters.get("secret") ?? "", body: text)
        return try .json(PostedJSON(ok: true, seq: posted.seq, held: posted.held))
    }

    struct PostedJSON: Encodable {
        let ok: Bool
        let seq: Int64
        let held: Bool
    }

    private func roomID(_ context: AppRequestContext) throws -> Int64 {
        guard let id = context.parameters.get("id").flatMap(Int64.init) else { throw ServiceError.roomNotFound }
        return id
    }

    private func hookID(_ context: AppRequestContext) throws -> Int64 {
        guard let id = context.parameters.get("hook").flatMap(Int64.init) else {
            throw ServiceError.notFound("Webhook")
        }
        return id
    }
}

/// What a webhook request says, as the text of a message, from the formats tools already send.
enum WebhookPayload {
    /// Apprise's notification types, as a sign before the title.
    static let appriseTypes = ["info": "ℹ️", "success": "✅", "warning": "⚠️", "failure": "❌"]

    /// The message text of a request:
    /// - `application/json` `{"text": "…"}` as Slack's incoming webhooks take (Grafana, Uptime
    ///   Kuma, Proxmox…; `username`, `icon_url` and the rest are ignored: the webhook's own name
    ///   shows), or Apprise's `json://` `{"version", "title", "message", "type"}`;
    /// - anything else as plain UTF-8 text (what `curl -d` and ntfy-style scripts send), with
    ///   the `Title` (or `X-Title`) header, if any, as its first line.
    static func text(contentType: String?, title: String?, body: [UInt8]) throws -> String {
        let type = contentType?.split(separator: ";").first?.trimmingCharacters(in: .whitespaces).lowercased() ?? ""
        if type == "multipart/form-data" {
            throw APIError(
                .unsupportedMediaType, code: "unsupported_type",
                message: "Files cannot be posted through a webhook yet; send text (JSON or plain).")
        }
        if type == "application/json" || type.hasSuffix("+json") {
            guard let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] else {
                throw ServiceError.invalidField("The body is not a JSON object.")
            }
            if let text = object["text"] as? String { return text }
            if let message = object["message"] as? String {
                let sign = (object["type"] as? String).flatMap { appriseTypes[$0.lowercased()] }
                let heading = [sign, (object["title"] as? String).flatMap { $0.isEmpty ? nil : $0 }]
                    .compactMap { $0 }.joined(separator: " ")
                return heading.isEmpty ? message : heading + "\n" + message
            }
            throw ServiceError.invalidField(
                "This JSON has no text: send {\"text\": \"…\"} (as for Slack) or {\"title\": \"…\", \"message\": \"…\"} (Apprise)."
            )
        }
        guard let text = String(validating: body, as: UTF8.self) else {
            throw ServiceError.invalidField("The body is not UTF-8 text.")
        }
        guard let title = title?.trimmingCharacters(in: .whitespaces), !title.isEmpty else { return text }
        return title + "\n" + text
    }
}

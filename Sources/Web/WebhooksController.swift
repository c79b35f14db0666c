import Foundation
import HTTPTypes
import Hummingbird
import Services
import Storage

/// Incoming webhooks: made, listed, renamed and revoked by a group's admins; posted to by
/// programs at `POST /api/v1/hooks/{secret}` in the formats they already speak.
struct WebhooksController: Sendable {
    let webhooks: Webhooks
    let attachments: Attachments
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
            in: try context.roomID(), name: body.name, avatar: body.avatar, by: session.user)
        let url = await publicURL() + "/api/v1/hooks/" + created.secret
        return try .json(
            CreatedJSON(id: created.webhook.id, url: url, webhook: WebhookJSON(created.webhook)), status: .created)
    }

    /// `GET /api/v1/rooms/{id}/webhooks` — `{webhooks: [...]}`, to the room's members.
    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> Response {
        let session = try context.signedIn()
        let found = try await webhooks.list(in: try context.roomID(), by: session.user)
        return try .json(["webhooks": found.map(WebhookJSON.init)])
    }

    /// `PATCH /api/v1/rooms/{id}/webhooks/{hook} {name}` — `{webhook}`.
    @Sendable func rename(_ request: Request, context: AppRequestContext) async throws -> Response {
        let session = try context.signedIn()
        let body = try await request.decodeJSON(NameBody.self, limit: 16 * 1024)
        let renamed = try await webhooks.rename(
            try context.hookID(), in: try context.roomID(), to: body.name, by: session.user)
        return try .json(["webhook": WebhookJSON(renamed)])
    }

    /// `DELETE /api/v1/rooms/{id}/webhooks/{hook}` — `204`; the URL stops working at once.
    @Sendable func revoke(_ request: Request, context: AppRequestContext) async throws -> Response {
        let session = try context.signedIn()
        try await webhooks.revoke(try context.hookID(), in: try context.roomID(), by: session.user)
        return Response(status: .noContent)
    }

    /// `POST /api/v1/hooks/{secret}` — posts a message as the webhook: `200 {ok, seq, held}`.
    /// A wrong or revoked secret is `404` whatever the body, answered before the body is read.
    @Sendable func post(_ request: Request, context: AppRequestContext) async throws -> Response {
        let caller = try await webhooks.open(secret: context.parameters.get("secret") ?? "")
        let limit = limits.webhookBodyBytes
        let contentType = request.headers[.contentType] ?? ""
        let title = request.headers[HTTPField.Name("Title")!] ?? request.headers[HTTPField.Name("X-Title")!]
        let posted: (seq: Int64, held: Bool)
        if let boundary = MultipartReader<RequestBody>.boundary(of: contentType) {
            let form = try await readForm(request.body, boundary: boundary, as: caller)
            let text = try WebhookPayload.text(fields: form.fields, title: title, hasFiles: !form.files.isEmpty)
            posted = try await webhooks.post(caller, body: text, attachments: form.files)
        } else {
            let buffer: ByteBuffer
            do {
                buffer = try await request.body.collect(upTo: limit)
            } catch {
                throw ServiceError.invalidField(
                    "The request is larger than \(limit) bytes; send files as multipart/form-data.")
            }
            let text = try WebhookPayload.text(contentType: contentType, title: title, body: Array(buffer: buffer))
            posted = try await webhooks.post(caller, body: text)
        }
        return try .json(PostedJSON(ok: true, seq: posted.seq, held: posted.held))
    }

    /// A `multipart/form-data` body's text fields, and its files (every part with a file name:
    /// `file` as `curl -F file=@…` sends, `file01`… as Apprise's `form://` does), each streamed
    /// into storage as the webhook's bot through the same sniffing, types and size limits as any
    /// upload. Fields and headers together fit in `webhookBodyBytes`.
    private func readForm(
        _ body: RequestBody, boundary: String, as caller: Webhooks.Caller
    ) async throws -> (fields: [String: String], files: [String]) {
        let reader = MultipartReader(boundary: boundary, body: body, overheadLimit: limits.webhookBodyBytes)
        var fields: [String: String] = [:]
        var fieldBytes = 0
        var files: [String] = []
        while let part = try await reader.nextPart() {
            if let filename = part.filename {
                guard files.count < webhooks.filesPerMessage else {
                    throw ServiceError.invalidField("At most \(webhooks.filesPerMessage) files per message.")
                }
                let stored = try await attachments.upload(
                    owner: caller.bot, contentType: part.contentType ?? "application/octet-stream",
                    filename: filename.isEmpty ? nil : filename, declaredLength: nil, body: reader.partBytes)
                files.append(stored.publicID)
            } else if let name = part.name {
                // All the fields together, not each, fit in the limit.
                let bytes = try await reader.partData(limit: limits.webhookBodyBytes - fieldBytes)
                fieldBytes += bytes.count
                guard let value = String(validating: bytes, as: UTF8.self) else {
                    throw ServiceError.invalidField("The form field “\(name)” is not UTF-8 text.")
                }
                fields[name.lowercased()] = value
            }
        }
        return (fields, files)
    }

    struct PostedJSON: Encodable {
        let ok: Bool
        let seq: Int64
        let held: Bool
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
        if type.hasPrefix("multipart/") {
            throw ServiceError.invalidField("A multipart/form-data body needs its boundary in the Content-Type.")
        }
        if type == "application/json" || type.hasSuffix("+json") {
            guard let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] else {
                throw ServiceError.invalidField("The body is not a JSON object.")
            }
            if let files = object["attachments"] as? [Any], !files.isEmpty {
                throw ServiceError.invalidField(
                    "Files are not taken inside JSON; send them as multipart/form-data (Apprise's form://, curl -F file=@…)."
                )
            }
            let fields = object.compactMapValues { $0 as? String }
            guard fields["text"] != nil || fields["message"] != nil else {
                throw ServiceError.invalidField(
                    "This JSON has no text: send {\"text\": \"…\"} (as for Slack) or {\"title\": \"…\", \"message\": \"…\"} (Apprise)."
                )
            }
            return try text(fields: fields, title: nil, hasFiles: false)
        }
        guard let text = String(validating: body, as: UTF8.self) else {
            throw ServiceError.invalidField("The body is not UTF-8 text.")
        }
        return compose(fields: ["message": text], title: title)
    }

    /// The text from a request's fields (a JSON object's or a form's): `text` as Slack sends it,
    /// else `message` under Apprise's `title` and `type` (or the `Title` header). A form with
    /// files may have no text at all.
    static func text(fields: [String: String], title header: String?, hasFiles: Bool) throws -> String {
        guard fields["text"] != nil || fields["message"] != nil || hasFiles else {
            throw ServiceError.invalidField(
                "This form has no text and no file: send a `text` or `message` field, or a `file`.")
        }
        return compose(fields: fields, title: header)
    }

    private static func compose(fields: [String: String], title header: String?) -> String {
        if let text = fields["text"] { return text }
        let message = fields["message"] ?? ""
        let sign = fields["type"].flatMap { appriseTypes[$0.lowercased()] }
        let title = (fields["title"] ?? header)?.trimmingCharacters(in: .whitespaces)
        let heading = [sign, title.flatMap { $0.isEmpty ? nil : $0 }].compactMap { $0 }.joined(separator: " ")
        guard !heading.isEmpty else { return message }
        return message.isEmpty ? heading : heading + "\n" + message
    }
}

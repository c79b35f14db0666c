import Foundation
import Hummingbird
import Services
import Storage

/// Webhooks on the Rooms page: incoming ones (revoked here), outgoing ones with their delivery
/// logs, and the private addresses outgoing ones may call.
extension AdminController {
    func addWebhookRoutes(to router: Router<AppRequestContext>) {
        router.get("admin/webhooks/{id}/revoke", use: confirmRevokeWebhook)
        router.post("admin/webhooks/{id}/revoke", use: revokeWebhook)
        router.post("admin/webhooks/{id}/rename", use: renameWebhook)
        router.get("admin/outgoing/{id}", use: outgoingLog)
        router.get("admin/outgoing/{id}/revoke", use: confirmRemoveOutgoing)
        router.post("admin/outgoing/{id}/revoke", use: removeOutgoing)
        router.post("admin/webhooks/allow", use: allowPrivate)
    }

    /// The Rooms page's webhook sections.
    func addWebhooks(to page: inout [String: Any]) async throws {
        page["webhooks"] = try await services.webhooks.all().map { entry in
            [
                "id": entry.webhook.id, "name": entry.webhook.name, "room": entry.roomName ?? "a room",
                "created": AdminFormat.date(entry.webhook.createdAt),
                "lastUsed": entry.webhook.lastUsedAt.map(AdminFormat.date) ?? "never",
            ] as [String: Any]
        }
        page["outgoing"] = try await services.outgoingWebhooks.all().map { entry in
            [
                "id": entry.hook.id, "name": entry.hook.name, "room": entry.roomName ?? "a room",
                "host": URL(string: entry.hook.url)?.host ?? entry.hook.url,
                "mode": entry.hook.commandsOnly ? "commands (/…)" : "every message",
                "last": entry.last.map(Self.deliverySummary) ?? "nothing sent yet",
            ] as [String: Any]
        }
        page["allowList"] = try await services.outgoingWebhooks.panelAllowList().joined(separator: "\n")
        page["allowFixed"] = services.configuration.outgoingWebhooks.allowPrivate.joined(separator: ", ")
    }

    /// A delivery in a few words: "delivered (200, 35 ms)", "trying again (503)", "gave up: …".
    static func deliverySummary(_ delivery: WebhookDelivery) -> String {
        let status = delivery.lastStatus.map { String($0) }
        let latency = delivery.lastLatencyMs.map { "\($0) ms" }
        let detail = [status, latency].compactMap { $0 }.joined(separator: ", ")
        switch delivery.state {
        case .delivered: return "delivered" + (detail.isEmpty ? "" : " (\(detail))")
        case .pending:
            return delivery.attempts == 0 ? "waiting" : "trying again" + (detail.isEmpty ? "" : " (\(detail))")
        case .failed: return "failed: " + (delivery.lastError ?? "unknown")
        }
    }

    /// `GET /admin/outgoing/{id}` — a hook's delivery log, newest first.
    @Sendable func outgoingLog(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await page(request, context, role: .admin) { user in
            let (entry, log) = try await services.outgoingWebhooks.log(try Self.webhookID(context))
            var page = base(user, "Webhook “\(entry.hook.name)”", request: request)
            page["id"] = entry.hook.id
            page["name"] = entry.hook.name
            page["room"] = entry.roomName ?? "a room"
            page["url"] = entry.hook.url
            page["mode"] = entry.hook.commandsOnly ? "only commands (messages starting with /)" : "every message"
            page["created"] = AdminFormat.date(entry.hook.createdAt)
            page["removed"] = entry.hook.revokedAt.map(AdminFormat.date) as Any
            page["deliveries"] = log.map { delivery in
                [
                    "seq": delivery.seq, "created": AdminFormat.date(delivery.createdAt),
                    "state": delivery.state.rawValue, "attempts": delivery.attempts,
                    "status": delivery.lastStatus.map { String($0) } ?? "—",
                    "latency": delivery.lastLatencyMs.map { "\($0) ms" } ?? "—",
                    "error": delivery.lastError ?? "",
                    "next": delivery.state == .pending ? AdminFormat.date(delivery.nextAttemptAt) : "",
                ] as [String: Any]
            }
            return templates.page("outgoing", page)
        }
    }

    /// `GET /admin/outgoing/{id}/revoke` — asks first.
    @Sendable func confirmRemoveOutgoing(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await page(request, context, role: .admin) { user in
            let id = try Self.webhookID(context)
            return confirmation(
                user, request: request, heading: "Remove this outgoing webhook?",
                explanation: "Nothing more is sent to its address, and what waits to be sent is dropped.",
                button: "Remove webhook", action: "/admin/outgoing/\(id)/revoke", back: "/admin/rooms")
        }
    }

    /// `POST /admin/outgoing/{id}/revoke`.
    @Sendable func removeOutgoing(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await act(request, context, role: .admin, back: "/admin/rooms") { user, _ in
            let id = try Self.webhookID(context)
            let (entry, _) = try await services.outgoingWebhooks.log(id, limit: 0)
            try await services.outgoingWebhooks.revoke(id, by: user.session.user)
            return redirect("/admin/rooms", notice: "Outgoing webhook “\(entry.hook.name)” removed.", for: user)
        }
    }

    /// `POST /admin/webhooks/allow` (`allow`: addresses, networks or host names, one a line).
    @Sendable func allowPrivate(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await act(request, context, role: .admin, back: "/admin/rooms") { user, form in
            let entries = try await services.outgoingWebhooks.setPanelAllowList(
                form.text("allow") ?? "", by: user.actor)
            let notice =
                entries.isEmpty
                ? "Outgoing webhooks may call no private address."
                : "Outgoing webhooks may call \(entries.joined(separator: ", "))."
            return redirect("/admin/rooms", notice: notice, for: user)
        }
    }

    /// `GET /admin/webhooks/{id}/revoke` — asks first.
    @Sendable func confirmRevokeWebhook(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await page(request, context, role: .admin) { user in
            let id = try Self.webhookID(context)
            return confirmation(
                user, request: request, heading: "Revoke this webhook?",
                explanation:
                    "Its address stops working at once, and its bot leaves the group. What it posted stays.",
                button: "Revoke webhook", action: "/admin/webhooks/\(id)/revoke", back: "/admin/rooms")
        }
    }

    /// `POST /admin/webhooks/{id}/rename` (`name`).
    @Sendable func renameWebhook(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await act(request, context, role: .admin, back: "/admin/rooms") { user, form in
            let entry = try await incomingWebhook(context)
            let renamed = try await services.webhooks.rename(
                entry.webhook.id, in: entry.webhook.roomID, to: form.text("name") ?? "", by: user.session.user)
            return redirect("/admin/rooms", notice: "Webhook renamed “\(renamed.name)”.", for: user)
        }
    }

    /// `POST /admin/webhooks/{id}/revoke`.
    @Sendable func revokeWebhook(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await act(request, context, role: .admin, back: "/admin/rooms") { user, _ in
            let entry = try await incomingWebhook(context)
            try await services.webhooks.revoke(entry.webhook.id, in: entry.webhook.roomID, by: user.session.user)
            return redirect("/admin/rooms", notice: "Webhook “\(entry.webhook.name)” revoked.", for: user)
        }
    }

    /// The incoming webhook the path's `{id}` names (not revoked), with its room.
    private func incomingWebhook(_ context: AppRequestContext) async throws -> (webhook: Webhook, roomName: String?) {
        let id = try Self.webhookID(context)
        guard let entry = try await services.webhooks.all().first(where: { $0.webhook.id == id }) else {
            throw ServiceError.notFound("That webhook")
        }
        return entry
    }

    private static func webhookID(_ context: AppRequestContext) throws -> Int64 {
        guard let id = context.parameters.get("id").flatMap(Int64.init) else {
            throw ServiceError.notFound("That webhook")
        }
        return id
    }
}

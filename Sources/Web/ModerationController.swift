import Foundation
import Hummingbird
import Services
import Storage

/// Moderation over HTTP: rules (admins), reports (members), the review queue, mutes and account
/// actions (moderators and admins), and the audit log (admins).
struct ModerationController: Sendable {
    let moderation: Moderation
    let accounts: Accounts
    let authenticator: SessionAuthenticator

    /// JSON bodies of these routes are small.
    static let bodyLimit = 64 * 1024

    func addRoutes(to api: RouterGroup<AppRequestContext>) {
        api.signedIn(authenticator).post("reports", use: report)
        api.signedIn(authenticator, role: .moderator)
            .get("admin/queue", use: queue)
            .post("admin/queue/{id}/{decision}", use: decide)
            .get("admin/users", use: users)
            .post("admin/users/{username}/mute", use: mute)
            .delete("admin/users/{username}/mute", use: unmute)
            .post("admin/users/{username}/disable", use: disable)
        api.signedIn(authenticator, role: .admin)
            .get("admin/rules", use: listRules)
            .post("admin/rules", use: createRule)
            .post("admin/rules/test", use: testRule)
            .get("admin/rules/{id}", use: showRule)
            .put("admin/rules/{id}", use: updateRule)
            .delete("admin/rules/{id}", use: deleteRule)
            .post("admin/users/{username}/enable", use: enable)
            .put("admin/users/{username}/role", use: setRole)
            .get("admin/audit", use: audit)
    }

    struct RuleBody: Decodable {
        let kind: String
        let pattern: String
        let action: String
        let scope: Int64?
        let message: String?
        let newAccountDays: Int?

        var draft: RuleDraft {
            RuleDraft(
                kind: kind, pattern: pattern, action: action, scope: scope, message: message,
                newAccountDays: newAccountDays)
        }
    }

    struct TestBody: Decodable {
        let body: String
        let room: Int64?
        let attachmentTypes: [String]?
    }

    struct ReportBody: Decodable {
        let messageId: Int64
        let reason: String
    }

    struct NoteBody: Decodable {
        let note: String?
        let reason: String?
    }

    struct MuteBody: Decodable {
        let minutes: Int
        let reason: String?
    }

    struct RoleBody: Decodable {
        let role: String
    }

    // MARK: Reports

    /// `POST /api/v1/reports` `{messageId, reason}` — a member reports a message to the moderators: 201 `{report}`.
    @Sendable func report(_ request: Request, context: AppRequestContext) async throws -> Response {
        let session = try context.signedIn()
        let body = try await request.decodeJSON(ReportBody.self, limit: Self.bodyLimit)
        let id = try await moderation.report(
            messageID: body.messageId, reason: body.reason, by: session, ip: context.clientAddress)
        return try .json(["report": ["id": id]], status: .created)
    }

    // MARK: Rules

    /// `GET /api/v1/admin/rules` — every rule (admins).
    @Sendable func listRules(_ request: Request, context: AppRequestContext) async throws -> Response {
        return try .json(["rules": try await moderation.rules().map(RuleJSON.init)])
    }

    /// `POST /api/v1/admin/rules` `{kind, pattern, action, scope?, message?, newAccountDays?}` — 201 `{rule}`.
    @Sendable func createRule(_ request: Request, context: AppRequestContext) async throws -> Response {
        let actor = try actor(context)
        let body = try await request.decodeJSON(RuleBody.self, limit: Self.bodyLimit)
        let rule = try await moderation.createRule(body.draft, by: actor)
        return try .json(["rule": RuleJSON(rule)], status: .created)
    }

    /// `GET /api/v1/admin/rules/{id}` — one rule.
    @Sendable func showRule(_ request: Request, context: AppRequestContext) async throws -> Response {
        return try .json(["rule": RuleJSON(try await moderation.rule(id: try id(context)))])
    }

    /// `PUT /api/v1/admin/rules/{id}` — replaces a rule: `{rule}`.
    @Sendable func updateRule(_ request: Request, context: AppRequestContext) async throws -> Response {
        let actor = try actor(context)
        let body = try await request.decodeJSON(RuleBody.self, limit: Self.bodyLimit)
        let rule = try await moderation.updateRule(id: try id(context), body.draft, by: actor)
        return try .json(["rule": RuleJSON(rule)])
    }

    /// `DELETE /api/v1/admin/rules/{id}` — 204.
    @Sendable func deleteRule(_ request: Request, context: AppRequestContext) async throws -> Response {
        let actor = try actor(context)
        try await moderation.deleteRule(id: try id(context), by: actor)
        return Response(status: .noContent)
    }

    /// `POST /api/v1/admin/rules/test` `{body, room?, attachmentTypes?}` — which rules fire and what
    /// the message would become; nothing is stored.
    @Sendable func testRule(_ request: Request, context: AppRequestContext) async throws -> Response {
        let body = try await request.decodeJSON(TestBody.self, limit: Self.bodyLimit)
        let result = moderation.test(
            body: body.body, roomID: body.room, contentTypes: body.attachmentTypes ?? [])
        return try .json(RuleTestJSON(result))
    }

    // MARK: Queue

    /// `GET /api/v1/admin/queue?decided=true&before=ID&limit=N` — held, flagged and reported
    /// messages with the messages around them, newest first (moderators and admins).
    @Sendable func queue(_ request: Request, context: AppRequestContext) async throws -> Response {
        let query = request.uri.queryParameters
        let entries = try await moderation.queue(
            decided: query.get("decided") == "true", before: try request.positiveQuery("before"),
            limit: try request.positiveQuery("limit").map(Int.init))
        return try .json(["items": entries.map(QueueItemJSON.init)])
    }

    /// `POST /api/v1/admin/queue/{id}/approve|delete|dismiss` `{note?}` — decides an item: 204.
    @Sendable func decide(_ request: Request, context: AppRequestContext) async throws -> Response {
        let actor = try actor(context)
        guard let decision = context.parameters.get("decision").flatMap(Moderation.Decision.init(rawValue:)) else {
            throw APIError(.notFound, code: "not_found", message: "Decide with approve, delete or dismiss.")
        }
        let note = try await optionalBody(request)?.note
        try await moderation.decide(itemID: try id(context), decision, note: note, by: actor)
        return Response(status: .noContent)
    }

    // MARK: Users

    /// `GET /api/v1/admin/users` — every account with its role and state (moderators and admins).
    @Sendable func users(_ request: Request, context: AppRequestContext) async throws -> Response {
        return try .json(["users": try await accounts.users().map(AccountJSON.init)])
    }

    /// `POST /api/v1/admin/users/{username}/mute` `{minutes, reason?}` — refuses the user's sends
    /// with `muted` until then: `{mutedUntil}`.
    @Sendable func mute(_ request: Request, context: AppRequestContext) async throws -> Response {
        let session = try context.signedIn()
        let actor = try actor(context)
        let body = try await request.decodeJSON(MuteBody.self, limit: Self.bodyLimit)
        let until = try await moderation.mute(
            username: try username(context), for: TimeInterval(body.minutes) * 60, reason: body.reason, by: actor,
            role: session.user.role)
        return try .json(["mutedUntil": until])
    }

    /// `DELETE /api/v1/admin/users/{username}/mute` — ends a mute: 204.
    @Sendable func unmute(_ request: Request, context: AppRequestContext) async throws -> Response {
        let session = try context.signedIn()
        let actor = try actor(context)
        try await moderation.unmute(username: try username(context), by: actor, role: session.user.role)
        return Response(status: .noContent)
    }

    /// `POST /api/v1/admin/users/{username}/disable` `{reason?}` — disables the account and ends its
    /// sessions at once. Moderators may disable members only.
    @Sendable func disable(_ request: Request, context: AppRequestContext) async throws -> Response {
        let session = try context.signedIn()
        let actor = try actor(context)
        let reason = try await optionalBody(request)?.reason
        try await accounts.disable(username: try username(context), reason: reason, by: actor, role: session.user.role)
        return Response(status: .noContent)
    }

    /// `POST /api/v1/admin/users/{username}/enable` — enables a disabled account (admins): 204.
    @Sendable func enable(_ request: Request, context: AppRequestContext) async throws -> Response {
        let actor = try actor(context)
        try await accounts.enable(username: try username(context), by: actor)
        return Response(status: .noContent)
    }

    /// `PUT /api/v1/admin/users/{username}/role` `{role}` — `member`, `moderator` or `admin` (admins): 204.
    @Sendable func setRole(_ request: Request, context: AppRequestContext) async throws -> Response {
        let actor = try actor(context)
        let body = try await request.decodeJSON(RoleBody.self, limit: Self.bodyLimit)
        guard let role = User.Role(rawValue: body.role) else {
            throw ServiceError.invalidField("The role is member, moderator or admin.")
        }
        try await accounts.setRole(username: try username(context), to: role, by: actor)
        return Response(status: .noContent)
    }

    // MARK: Audit

    /// `GET /api/v1/admin/audit?action=&actor=&target=&before=ID&limit=N` — the audit log, newest
    /// first; `action` may be a prefix ending in `_` (admins).
    @Sendable func audit(_ request: Request, context: AppRequestContext) async throws -> Response {
        let query = request.uri.queryParameters
        let filter = AuditFilter(
            action: query.get("action").flatMap(nonEmpty), actor: query.get("actor").flatMap(nonEmpty),
            target: query.get("target").flatMap(nonEmpty))
        let entries = try await moderation.auditLog(
            filter, before: try request.positiveQuery("before"),
            limit: try request.positiveQuery("limit").map(Int.init))
        return try .json(AuditPageJSON(entries: entries.map(AuditJSON.init), next: entries.last?.id))
    }

    // MARK: Helpers

    /// The signed-in user as an audit actor.
    private func actor(_ context: AppRequestContext) throws -> AuditActor {
        AuditActor(user: try context.signedIn().user, ip: context.clientAddress)
    }

    /// A JSON body that may be absent (no body, or an empty one).
    private func optionalBody(_ request: Request) async throws -> NoteBody? {
        guard request.headers[.contentType] != nil else { return nil }
        return try await request.decodeJSON(NoteBody.self, limit: Self.bodyLimit)
    }

    private func id(_ context: AppRequestContext) throws -> Int64 {
        guard let id = context.parameters.get("id").flatMap(Int64.init), id > 0 else {
            throw ServiceError.notFound("That item")
        }
        return id
    }

    private func username(_ context: AppRequestContext) throws -> String {
        context.parameters.get("username") ?? ""
    }

    private func nonEmpty(_ text: String) -> String? { text.isEmpty ? nil : text }
}

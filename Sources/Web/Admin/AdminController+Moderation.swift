import Foundation
import Hummingbird
import Services
import Storage

/// Rules, the review queue and the audit log.
extension AdminController {
    func addModerationRoutes(to router: Router<AppRequestContext>) {
        router.get("admin/rules", use: rules)
        router.post("admin/rules", use: createRule)
        router.post("admin/rules/test", use: testRule)
        router.get("admin/rules/{id}", use: rule)
        router.post("admin/rules/{id}", use: updateRule)
        router.get("admin/rules/{id}/delete", use: confirmDeleteRule)
        router.post("admin/rules/{id}/delete", use: deleteRule)
        router.get("admin/reports", use: reports)
        router.get("admin/reports/{id}/delete", use: confirmDeleteMessage)
        // One route per decision: a parameter beside the literal `delete` above would never match.
        for decision in Moderation.Decision.allCases {
            router.post(RouterPath("admin/reports/{id}/\(decision.rawValue)")) { request, context in
                try await decide(request, context: context, decision: decision)
            }
        }
        router.get("admin/audit", use: audit)
    }

    // MARK: Rules

    static let kindLabels: [(Rule.Kind, String)] = [
        (.word, "Word or phrase"), (.regex, "Regular expression"), (.link, "Link to a domain (* for any)"),
        (.attachmentType, "Attachment type"), (.rate, "Rate (N/60s)"),
    ]
    static let actionLabels: [(Rule.Action, String)] = [
        (.block, "Block it"), (.hold, "Hold for review"), (.flag, "Deliver and flag for review"),
        (.mask, "Mask the match with ***"),
    ]

    /// The rule form's context: the choices, and the values to show.
    func ruleForm(
        _ fields: [String: String], heading: String, action: String, button: String, rooms: [RoomOverview]
    ) -> [String: Any] {
        [
            "formHeading": heading, "formAction": action, "formButton": button, "form": fields,
            // A room is chosen by its name, never typed as an id the panel shows nowhere else.
            "rooms": rooms.map { overview in
                [
                    "value": String(overview.room.id),
                    "label": overview.room.kind == .group
                        ? "\(overview.room.name ?? "Group") (\(overview.members) members)"
                        : "A direct chat (room \(overview.room.id))",
                    "selected": fields["scope"] == String(overview.room.id),
                ] as [String: Any]
            },
            "kinds": Self.kindLabels.map {
                ["value": $0.0.rawValue, "label": $0.1, "selected": fields["kind"] == $0.0.rawValue]
            },
            "actions": Self.actionLabels.map {
                ["value": $0.0.rawValue, "label": $0.1, "selected": fields["action"] == $0.0.rawValue]
            },
        ]
    }

    /// `GET /admin/rules` — every rule, the tester, and the form for a new rule.
    @Sendable func rules(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await page(request, context, role: .admin) { user in
            try await rulesPage(user, request: request, test: nil, testFields: [:])
        }
    }

    /// The rooms a rule may be kept to (the newest 500).
    func ruleRooms() async throws -> [RoomOverview] {
        try await services.rooms.overviews(before: nil, limit: 500)
    }

    /// The rules page; a refused new rule comes back with what was typed (`formFields`) and why.
    func rulesPage(
        _ user: AdminUser, request: Request, test: RuleTest?, testFields: [String: String],
        formFields: [String: String] = [:], problem: String? = nil
    ) async throws
        -> Response
    {
        let after = cursor(request, "after") ?? 0
        let all = Array(try await services.moderation.rules().filter { $0.id > after }.prefix(Self.pageSize))
        var page = base(user, "Rules", request: request)
        page["next"] = nextLink("/admin/rules", count: all.count, cursor: all.last.map { String($0.id) }, name: "after")
        page.merge(
            ruleForm(
                formFields, heading: "Add a rule", action: "/admin/rules", button: "Add rule",
                rooms: try await ruleRooms())
        ) { $1 }
        if let problem { page["problem"] = problem }
        // Mustache shows a section for any value that is present, even an empty string: optional
        // values are left out instead.
        page["rules"] = all.map { rule in
            var row: [String: Any] = [
                "id": rule.id, "kind": rule.kind.rawValue, "pattern": rule.pattern, "action": rule.action.rawValue,
                "scope": rule.roomID.map { "room \($0)" } ?? "every room",
            ]
            row["newAccountDays"] = rule.newAccountDays
            row["disabled"] = rule.disabled
            return row
        }
        page["testBody"] = testFields["body"] ?? ""
        page["testTypes"] = testFields["types"] ?? ""
        if let test {
            var result: [String: Any] = [
                "outcome": test.outcome, "matched": test.matched.map { ["summary": $0.summary] },
            ]
            result["body"] = test.body
            result["error"] = test.error?.message
            page["test"] = result
        }
        return templates.page("rules", page, status: problem == nil ? .ok : .badRequest)
    }

    static func draft(_ form: AdminForm) throws -> RuleDraft {
        RuleDraft(
            kind: form.text("kind") ?? "", pattern: form["pattern"] ?? "", action: form.text("action") ?? "",
            scope: try form.number("scope", label: "The room").map(Int64.init), message: form.text("message"),
            newAccountDays: try form.number("newAccountDays", label: "The account age"))
    }

    /// `POST /admin/rules` — adds a rule; a refused one comes back with what was typed.
    @Sendable func createRule(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await act(request, context, role: .admin, back: "/admin/rules") { user, form in
            do {
                let rule = try await services.moderation.createRule(try Self.draft(form), by: user.actor)
                return redirect("/admin/rules", notice: "Rule #\(rule.id) added: \(rule.summary).", for: user)
            } catch let error as AdminProblem {
                return try await rulesPage(
                    user, request: request, test: nil, testFields: [:], formFields: form.fields, problem: error.message)
            } catch let error as ServiceError where error.code != "internal_error" {
                return try await rulesPage(
                    user, request: request, test: nil, testFields: [:], formFields: form.fields, problem: error.message)
            }
        }
    }

    /// `POST /admin/rules/test` (`body`, `types`) — the dry run, shown on the rules page.
    @Sendable func testRule(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await act(request, context, role: .admin, back: "/admin/rules") { user, form in
            let types = (form["types"] ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
                .filter { !$0.isEmpty }
            let result = services.moderation.test(body: form["body"] ?? "", roomID: nil, contentTypes: types)
            return try await rulesPage(user, request: request, test: result, testFields: form.fields)
        }
    }

    /// `GET /admin/rules/{id}` — the edit form.
    @Sendable func rule(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await page(request, context, role: .admin) { user in
            let rule = try await services.moderation.rule(id: context.parameters.get("id").flatMap(Int64.init) ?? 0)
            var page = base(user, "Rule #\(rule.id)", request: request)
            page["ruleID"] = rule.id
            let fields = [
                "kind": rule.kind.rawValue, "pattern": rule.pattern, "action": rule.action.rawValue,
                "scope": rule.roomID.map(String.init) ?? "",
                "newAccountDays": rule.newAccountDays.map(String.init) ?? "",
                "message": rule.message ?? "",
            ]
            page.merge(
                ruleForm(
                    fields, heading: "Change the rule", action: "/admin/rules/\(rule.id)", button: "Save",
                    rooms: try await ruleRooms())
            ) { $1 }
            return templates.page("rule", page)
        }
    }

    /// The edit form again, with what was typed and why it was refused.
    func refusedEdit(
        _ user: AdminUser, request: Request, id: Int64, form: AdminForm, problem: String
    ) async throws -> Response {
        var page = base(user, "Rule #\(id)", request: request)
        page["ruleID"] = id
        page["problem"] = problem
        page.merge(
            ruleForm(
                form.fields, heading: "Change the rule", action: "/admin/rules/\(id)", button: "Save",
                rooms: try await ruleRooms())
        ) { $1 }
        return templates.page("rule", page, status: .badRequest)
    }

    /// `POST /admin/rules/{id}` — replaces a rule.
    @Sendable func updateRule(_ request: Request, context: AppRequestContext) async throws -> Response {
        let id = context.parameters.get("id").flatMap(Int64.init) ?? 0
        return try await act(request, context, role: .admin, back: "/admin/rules/\(id)") { user, form in
            do {
                let rule = try await services.moderation.updateRule(id: id, try Self.draft(form), by: user.actor)
                return redirect("/admin/rules", notice: "Rule #\(rule.id) saved: \(rule.summary).", for: user)
            } catch let error as AdminProblem {
                return try await refusedEdit(user, request: request, id: id, form: form, problem: error.message)
            } catch let error as ServiceError where error.code != "internal_error" && error.code != "not_found" {
                return try await refusedEdit(user, request: request, id: id, form: form, problem: error.message)
            }
        }
    }

    /// `GET /admin/rules/{id}/delete` — asks first.
    @Sendable func confirmDeleteRule(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await page(request, context, role: .admin) { user in
            let rule = try await services.moderation.rule(id: context.parameters.get("id").flatMap(Int64.init) ?? 0)
            return confirmation(
                user, request: request, heading: "Delete rule #\(rule.id)?",
                explanation: "\(rule.summary). Messages are no longer checked against it.", button: "Delete rule",
                action: "/admin/rules/\(rule.id)/delete", back: "/admin/rules")
        }
    }

    /// `POST /admin/rules/{id}/delete`.
    @Sendable func deleteRule(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await act(request, context, role: .admin, back: "/admin/rules") { user, _ in
            let id = context.parameters.get("id").flatMap(Int64.init) ?? 0
            try await services.moderation.deleteRule(id: id, by: user.actor)
            return redirect("/admin/rules", notice: "Rule #\(id) deleted.", for: user)
        }
    }

    // MARK: Review queue

    /// `GET /admin/reports?decided=true&before=` — held, flagged and reported messages in context.
    @Sendable func reports(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await page(request, context, role: .moderator) { user in
            let decided = request.uri.queryParameters.get("decided") == "true"
            let entries = try await services.moderation.queue(
                decided: decided, before: cursor(request), limit: Self.pageSize)
            // A line of the conversation: who, and what they sent in words (a photo-only message
            // says "sent a JPEG photo (garden.jpg)", a deleted one says so).
            func line(_ message: Message) -> [String: Any] {
                let files = message.attachments.map { "\(Words.kind(of: $0.contentType)) (\($0.name ?? "no name"))" }
                let body =
                    message.deletedAt != nil
                    ? "(deleted)"
                    : [
                        message.body,
                        files.isEmpty ? "" : (message.body.isEmpty ? "sent " : "with ") + files.joined(separator: ", "),
                    ]
                    .filter { !$0.isEmpty }.joined(separator: " — ")
                return ["from": message.senderName ?? "(deleted user)", "body": body]
            }
            var page = base(user, "Review queue", request: request)
            page["decided"] = decided
            page["items"] = entries.map { entry -> [String: Any] in
                var item = line(entry.message)
                item["id"] = entry.item.id
                item["reason"] =
                    switch entry.item.reason {
                    case .held: "Held by a rule"
                    case .flagged: "Flagged by a rule"
                    case .reported: entry.reports.count == 1 ? "Reported" : "Reported \(entry.reports.count) times"
                    }
                item["roomName"] = entry.roomName ?? "a direct chat"
                item["when"] = AdminFormat.date(entry.message.createdAt)
                item["rules"] = entry.item.rules?.split(separator: "\n").map(String.init) ?? []
                item["reports"] = entry.reports.map { ["by": $0.reporter, "reason": $0.reason] }
                item["before"] = entry.before.map(line)
                item["after"] = entry.after.map(line)
                item["edited"] = !entry.earlierTexts.isEmpty
                item["earlier"] = entry.earlierTexts.map { ["body": $0.body, "when": AdminFormat.date($0.editedAt)] }
                item["open"] = entry.item.state == .open
                item["held"] = entry.message.held
                item["sender"] = entry.message.senderName
                let decided: String =
                    switch entry.item.state {
                    case .open: ""
                    case .approved: entry.message.held ? "Approved and delivered" : "Kept"
                    case .dismissed: "Dismissed (the message left as it was)"
                    case .deleted: "Deleted"
                    }
                item["decision"] =
                    "\(decided) by \(entry.item.decidedBy ?? "a moderator since removed")"
                    + (entry.item.decidedAt.map { " on \(AdminFormat.date($0))" } ?? "")
                item["note"] = entry.item.note
                return item
            }
            page["next"] = nextLink(
                "/admin/reports", count: entries.count, cursor: entries.last.map { String($0.item.id) },
                extra: decided ? ["decided": "true"] : [:])
            return templates.page("reports", page)
        }
    }

    /// `GET /admin/reports/{id}/delete` — asks before deleting a message.
    @Sendable func confirmDeleteMessage(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await page(request, context, role: .moderator) { user in
            let id = context.parameters.get("id") ?? ""
            return confirmation(
                user, request: request, heading: "Delete this message?",
                explanation: "It disappears for everyone in the room, with its attachments. This cannot be undone.",
                button: "Delete message", action: "/admin/reports/\(id)/delete", back: "/admin/reports",
                askReason: true)
        }
    }

    /// `POST /admin/reports/{id}/approve|delete|dismiss`.
    func decide(_ request: Request, context: AppRequestContext, decision: Moderation.Decision) async throws -> Response
    {
        try await act(request, context, role: .moderator, back: "/admin/reports") { user, form in
            let id = context.parameters.get("id").flatMap(Int64.init) ?? 0
            try await services.moderation.decide(itemID: id, decision, note: form.text("reason"), by: user.actor)
            let done = ["approve": "Approved.", "delete": "Message deleted.", "dismiss": "Dismissed."]
            return redirect("/admin/reports", notice: done[decision.rawValue], for: user)
        }
    }

    // MARK: Audit log

    /// `GET /admin/audit?action=&actor=&target=&before=` — the audit log, newest first.
    @Sendable func audit(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await page(request, context, role: .admin) { user in
            let query = request.uri.queryParameters
            let fields = [
                "action": query.get("action") ?? "", "actor": query.get("actor") ?? "",
                "target": query.get("target") ?? "",
            ]
            let filter = AuditFilter(
                action: fields["action"].flatMap { $0.isEmpty ? nil : $0 },
                actor: fields["actor"].flatMap { $0.isEmpty ? nil : $0 },
                target: fields["target"].flatMap { $0.isEmpty ? nil : $0 })
            let entries = try await services.moderation.auditLog(filter, before: cursor(request), limit: Self.pageSize)
            var page = base(user, "Audit log", request: request)
            page["filter"] = fields
            let kinds = [
                ("", "Everything"), ("user_", "Accounts"), ("device_", "Devices"), ("invite_", "Invites"),
                ("message_", "Messages and the review queue"), ("rule_", "Rules"), ("backup_", "Backups"),
                ("setting_changed", "Settings"),
            ]
            page["kinds"] = kinds.map { ["value": $0.0, "label": $0.1, "selected": $0.0 == fields["action"]] }
            let rooms = try await services.moderation.roomTitles(Set(entries.flatMap(AuditSentence.roomIDs)))
            page["entries"] = entries.map { entry in
                [
                    "when": AdminFormat.date(entry.at), "action": entry.action,
                    "sentence": AuditSentence(entry, rooms: rooms).parts.map(\.fields), "ip": entry.ip ?? "",
                ] as [String: Any]
            }
            page["next"] = nextLink(
                "/admin/audit", count: entries.count, cursor: entries.last.map { String($0.id) }, extra: fields)
            page["calls"] = try await services.calls.perDay().map { day in
                ["day": day.day, "calls": day.calls, "minutes": Int((Double(day.seconds) / 60).rounded())]
                    as [String: Any]
            }
            return templates.page("audit", page)
        }
    }
}

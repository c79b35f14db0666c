import Services
import Storage

/// A moderation rule as the API shows it.
struct RuleJSON: Encodable {
    let id: Int64
    let kind: String
    let pattern: String
    let action: String
    let scope: Int64?
    let message: String?
    let newAccountDays: Int?
    /// Why the server took the rule out of force at start (it no longer compiles); absent while in force.
    let disabled: String?
    let createdAt: Int64
    let updatedAt: Int64

    init(_ rule: Rule) {
        id = rule.id
        kind = rule.kind.rawValue
        pattern = rule.pattern
        action = rule.action.rawValue
        scope = rule.roomID
        message = rule.message
        newAccountDays = rule.newAccountDays
        disabled = rule.disabled
        createdAt = rule.createdAt
        updatedAt = rule.updatedAt
    }
}

/// The answer of a rule dry run.
struct RuleTestJSON: Encodable {
    struct ErrorJSON: Encodable {
        let code: String
        let message: String
    }

    let outcome: String
    let body: String?
    let matched: [RuleJSON]
    let error: ErrorJSON?

    init(_ test: RuleTest) {
        outcome = test.outcome
        body = test.body
        matched = test.matched.map(RuleJSON.init)
        error = test.error.map { ErrorJSON(code: $0.code, message: $0.message) }
    }
}

/// A review queue entry as the API shows it.
struct QueueItemJSON: Encodable {
    struct ReportJSON: Encodable {
        let by: String
        let reason: String
        let at: Int64
        let open: Bool
    }

    let id: Int64
    let reason: String
    let state: String
    let rules: [String]
    let createdAt: Int64
    let decidedAt: Int64?
    let decidedBy: String?
    let note: String?
    let message: MessageJSON.Embedded
    let held: Bool
    let roomName: String?
    let reports: [ReportJSON]
    let before: [MessageJSON.Embedded]
    let after: [MessageJSON.Embedded]
    /// The texts the message had before its edits, oldest first.
    let earlierTexts: [EarlierText]

    struct EarlierText: Encodable {
        let body: String
        let editedAt: Int64
    }

    init(_ entry: Moderation.QueueEntry) {
        id = entry.item.id
        reason = entry.item.reason.rawValue
        state = entry.item.state.rawValue
        rules = entry.item.rules?.split(separator: "\n").map(String.init) ?? []
        createdAt = entry.item.createdAt
        decidedAt = entry.item.decidedAt
        decidedBy = entry.item.decidedBy
        note = entry.item.note
        message = MessageJSON.Embedded(entry.message)
        held = entry.message.held
        roomName = entry.roomName
        reports = entry.reports.map { ReportJSON(by: $0.reporter, reason: $0.reason, at: $0.createdAt, open: $0.open) }
        before = entry.before.map(MessageJSON.Embedded.init)
        after = entry.after.map(MessageJSON.Embedded.init)
        earlierTexts = entry.earlierTexts.map { EarlierText(body: $0.body, editedAt: $0.editedAt) }
    }
}

/// An account as the admin API shows it.
struct AccountJSON: Encodable {
    let id: Int64
    let username: String
    let role: String
    let disabled: Bool
    let createdAt: Int64
    let mutedUntil: Int64?

    init(_ user: User) {
        id = user.id
        username = user.username
        role = user.role.rawValue
        disabled = user.disabled
        createdAt = user.createdAt
        mutedUntil = user.mutedUntil
    }
}

/// One audit log entry.
struct AuditJSON: Encodable {
    let id: Int64
    let at: Int64
    let actor: String
    let action: String
    let target: String?
    let detail: String?
    let ip: String?

    init(_ entry: AuditEntry) {
        id = entry.id
        at = entry.at
        actor = entry.actor
        action = entry.action
        target = entry.target
        detail = entry.detail
        ip = entry.ip
    }
}

/// A page of the audit log; `next` is the `before` of the next page.
struct AuditPageJSON: Encodable {
    let entries: [AuditJSON]
    let next: Int64?
}

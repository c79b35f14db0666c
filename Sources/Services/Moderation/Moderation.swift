import Foundation
import Logging
import Storage
import Synchronization

/// Content moderation: the rules, reports, the review queue, mutes, and the audit log that
/// records all of it.
///
/// Rules live in the database and are compiled into a ``RuleSet`` once at start-up and again
/// after every change, then put in force in the ``Screener`` that the message writer reads for
/// every send. Decisions that publish a message (approving a held one) are jobs for the message
/// writer, the one place that hands out `seq` numbers and publishes.
public final class Moderation: ContextualService {
    let screener: Screener
    let writer: MessageWriter
    let limits: HearthConfiguration.ModerationLimits
    private let generations = Mutex(0)

    let context: ServiceContext

    init(
        context: ServiceContext, screener: Screener, writer: MessageWriter,
        limits: HearthConfiguration.ModerationLimits
    ) {
        self.context = context
        self.screener = screener
        self.writer = writer
        self.limits = limits
    }

    // MARK: The send path

    /// Keeps the send path's copy of a user's mute in step with the database.
    func noteMute(userID: Int64, until: Int64?) {
        screener.noteMute(userID: userID, until: until)
    }

    // MARK: Rules

    /// Every rule, oldest first.
    public func rules() async throws -> [Rule] {
        try await run { try await database.read { try $0.rules() } }
    }

    /// One rule.
    public func rule(id: Int64) async throws -> Rule {
        let rule = try await run { try await database.read { try $0.rule(id: id) } }
        guard let rule else { throw ServiceError.notFound("Rule \(id)") }
        return rule
    }

    /// Checks and stores a new rule, rebuilds the matcher, and writes the audit log.
    public func createRule(_ draft: RuleDraft, by actor: AuditActor) async throws -> Rule {
        var rule = try draft.validated(limits: limits)
        let now = self.now
        rule.createdBy = actor.userID
        rule.createdAt = now
        rule.updatedAt = now
        let maxRules = limits.maxRules
        let stored = try await changeRules { [rule] store in
            guard try store.rules().count < maxRules else {
                throw ServiceError.invalidRule("the server already has \(maxRules) rules, the most allowed")
            }
            try Self.checkScope(rule, store)
            let stored = try store.insertRule(rule)
            try store.audit(actor, "rule_created", target: "rule \(stored.id)", detail: stored.summary, now: now)
            return stored
        }
        logger.info("rule created", metadata: ["rule": "\(stored.summary)"])
        return stored
    }

    /// Replaces a rule with a new draft.
    public func updateRule(id: Int64, _ draft: RuleDraft, by actor: AuditActor) async throws -> Rule {
        var rule = try draft.validated(limits: limits)
        let now = self.now
        rule.id = id
        rule.updatedAt = now
        return try await changeRules { [rule] store in
            guard let old = try store.rule(id: id) else { throw ServiceError.notFound("Rule \(id)") }
            try Self.checkScope(rule, store)
            var updated = rule
            updated.createdBy = old.createdBy
            updated.createdAt = old.createdAt
            try store.updateRule(updated)
            try store.audit(
                actor, "rule_updated", target: "rule \(id)", detail: "\(old.summary) ⇒ \(updated.summary)", now: now)
            return updated
        }
    }

    /// Deletes a rule.
    public func deleteRule(id: Int64, by actor: AuditActor) async throws {
        let now = self.now
        try await changeRules { store in
            guard let old = try store.rule(id: id) else { throw ServiceError.notFound("Rule \(id)") }
            try store.deleteRule(id: id)
            try store.audit(actor, "rule_deleted", target: "rule \(id)", detail: old.summary, now: now)
        }
    }

    /// What the current rules would do to a message (`POST /api/v1/admin/rules/test`); nothing
    /// is stored and `rate` rules are not counted.
    public func test(body: String, roomID: Int64?, contentTypes: [String]) -> RuleTest {
        screener.test(body: body, roomID: roomID, contentTypes: contentTypes)
    }

    private static func checkScope(_ rule: Rule, _ store: Store) throws {
        if let room = rule.roomID, try store.room(id: room) == nil {
            throw ServiceError.invalidRule("scope room \(room) does not exist")
        }
    }

    /// Runs a rule change in one transaction and rebuilds the matcher from its rules before it
    /// commits: a change that leaves a set the server cannot compile (over the regex memory
    /// limit) is refused and rolled back, and the rules in force stay as they were.
    private func changeRules<T: Sendable>(_ change: @escaping @Sendable (Store) throws -> T) async throws -> T {
        let limits = self.limits
        let (result, compiled, generation) = try await run {
            try await database.write { store in
                let result = try change(store)
                let compiled = try RuleSet(rules: try store.rules(), limits: limits)
                // Inside the write lock: generations follow commit order.
                let generation = self.generations.withLock { value in
                    value += 1
                    return value
                }
                return (result, compiled, generation)
            }
        }
        screener.install(compiled, generation: generation)
        return result
    }
}

/// The result of a rule dry run.
public struct RuleTest: Sendable {
    /// The rules that fire.
    public let matched: [Rule]
    /// `delivered`, `masked`, `flagged`, `held` or `blocked`.
    public let outcome: String
    /// The text as it would be stored; nil when blocked.
    public let body: String?
    /// What the sender would be told, when blocked.
    public let error: ServiceError?
}

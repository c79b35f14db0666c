import Foundation
import Logging
import Storage
import Synchronization

/// Content moderation: the rules on the send path, reports, the review queue, mutes, and the
/// audit log that records all of it.
///
/// Rules live in the database and are compiled into a ``RuleSet`` once at start-up and again
/// after every change; the send path only reads the current set. Mutes and `rate` windows are
/// kept in memory too, so screening a message never touches the database.
public final class Moderation: Sendable {
    private struct RateKey: Hashable {
        let rule: Int64
        let user: Int64
    }

    private struct State {
        var rules: RuleSet
        /// The change that built `rules`: an older rebuild finishing late never replaces a newer one.
        var generation = 0
        var mutes: [Int64: Int64]
        var windows: [RateKey: RateWindow] = [:]
    }

    let database: AppDatabase
    let hub: RelayHub
    let limits: HearthConfiguration.ModerationLimits
    let clock: @Sendable () -> Date
    let logger: Logger
    private let state: Mutex<State>
    private let generations = Mutex(0)

    init(
        database: AppDatabase, hub: RelayHub, limits: HearthConfiguration.ModerationLimits,
        clock: @escaping @Sendable () -> Date, logger: Logger
    ) throws {
        self.database = database
        self.hub = hub
        self.limits = limits
        self.clock = clock
        self.logger = logger
        let now = clock().epochMilliseconds
        var (rules, mutes) = try database.readNow { store in (try store.rules(), try store.mutedUsers(now: now)) }
        let broken = RuleSet.uncompilable(rules, limits: limits)
        if !broken.isEmpty {
            rules = try database.writeNow { store in
                for (rule, reason) in broken {
                    try store.disableRule(id: rule.id, reason: reason)
                    try store.audit(
                        .server, "rule_disabled", target: "rule \(rule.id)", detail: "\(rule.summary): \(reason)",
                        now: now)
                }
                return try store.rules()
            }
            for (rule, reason) in broken {
                logger.warning("rule disabled", metadata: ["rule": "\(rule.summary)", "reason": "\(reason)"])
            }
        }
        state = Mutex(State(rules: try RuleSet(rules: rules, limits: limits), mutes: mutes))
    }

    var now: Int64 { clock().epochMilliseconds }

    // MARK: The send path

    /// Screens a message before it is queued for commit: mutes, then every text and `rate` rule.
    /// `rate` windows count the send unless it is refused. With text rules this is real work
    /// (linear in the message's length): the writer calls it, off the event loops.
    func screen(body: String, roomID: Int64, sender: RelayConnection) -> Screening {
        let now = self.now
        let (rules, mutedUntil) = state.withLock { ($0.rules, $0.mutes[sender.userID]) }
        if let mutedUntil, mutedUntil > now {
            return Screening(body: body, refusal: .muted(until: mutedUntil))
        }
        guard !rules.isEmpty else { return Screening(body: body) }
        let context = RuleSet.Context(roomID: roomID, accountCreatedAt: sender.accountCreatedAt, now: now)
        var screening = Screening(body, textHits: rules.textHits(body, in: context))
        let rates = rules.rates.filter { RuleSet.applies($0.rule, in: context) }
        guard !rates.isEmpty else { return screening }
        state.withLock { state in
            var fired: [(Rule, wait: Int64, first: Bool)] = []
            for (rule, limit) in rates {
                let key = RateKey(rule: rule.id, user: sender.userID)
                let window = Int64(limit.window) * 1000
                let times = state.windows[key] ?? RateWindow(count: limit.count)
                if times.isFull(now: now, window: window) {
                    fired.append((rule, times.wait(now: now, window: window), !times.reported))
                    state.windows[key]?.reported = true
                }
            }
            for (rule, wait, first) in fired {
                // Only the first refusal of a flood goes to the audit log.
                if rule.action != .block || first { screening.hits.append(rule) }
                if rule.action == .block, screening.refusal == nil {
                    screening.refusal = .rateLimited(retryAfter: Int((wait + 999) / 1000))
                }
            }
            guard screening.refusal == nil else { return }
            if state.windows.count > 100_000 {
                state.windows = state.windows.filter { now - $0.value.newest < Int64(limits.rateMaxWindow * 1000) }
            }
            for (rule, limit) in rates {
                state.windows[RateKey(rule: rule.id, user: sender.userID), default: RateWindow(count: limit.count)]
                    .record(now)
            }
        }
        return screening
    }

    /// Keeps the send path's copy of a user's mute in step with the database.
    func noteMute(userID: Int64, until: Int64?) {
        state.withLock { $0.mutes[userID] = until }
    }

    /// The `attachment_type` rules that fire on a message's files.
    func attachmentHits(_ contentTypes: [String], roomID: Int64, sender: RelayConnection) -> [RuleSet.Hit] {
        let rules = state.withLock { $0.rules }
        let context = RuleSet.Context(roomID: roomID, accountCreatedAt: sender.accountCreatedAt, now: now)
        return rules.attachmentHits(contentTypes, in: context)
    }

    /// Records, inside the writer's transaction, what the rules did to one message: an audit row
    /// per rule that fired, and a review item for held and flagged messages.
    static func record(
        _ screening: Screening, message: Message?, sender: RelayConnection, roomID: Int64, store: Store, now: Int64
    ) throws {
        guard !screening.hits.isEmpty else { return }
        let target =
            message.map { "message \($0.id) by \(sender.username) in room \(roomID)" }
            ?? "\(sender.username) in room \(roomID)"
        for rule in screening.hits {
            let result = screening.refusal != nil ? "refused" : (screening.outcome?.rawValue ?? "masked")
            try store.audit(.server, "rule_hit", target: target, detail: "\(rule.summary); message \(result)", now: now)
        }
        guard let message else { return }
        switch screening.outcome {
        case .hold: try store.openReviewItem(messageID: message.id, reason: .held, rules: screening.summary, now: now)
        case .flag:
            try store.openReviewItem(messageID: message.id, reason: .flagged, rules: screening.summary, now: now)
        default: break
        }
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
        let rules = state.withLock { $0.rules }
        // A room-less test assumes a brand-new account in a room no scoped rule names.
        let context = RuleSet.Context(roomID: roomID ?? 0, accountCreatedAt: now, now: now)
        var screening = Screening(body, textHits: rules.textHits(body, in: context))
        screening.add(attachmentHits: rules.attachmentHits(contentTypes, in: context))
        let outcome: String
        switch screening.outcome {
        case .block: outcome = "blocked"
        case .hold: outcome = "held"
        case .flag: outcome = "flagged"
        case .mask, nil: outcome = screening.body == body ? "delivered" : "masked"
        }
        return RuleTest(
            matched: screening.hits, outcome: outcome, body: screening.outcome == .block ? nil : screening.body,
            error: screening.refusal)
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
        let rules = compiled.rules
        state.withLock { state in
            guard generation > state.generation else { return }
            state.rules = compiled
            state.generation = generation
            let live = Set(rules.map(\.id))
            state.windows = state.windows.filter { live.contains($0.key.rule) }
        }
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

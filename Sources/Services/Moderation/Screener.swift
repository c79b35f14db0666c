import Foundation
import Logging
import Storage
import Synchronization

/// The moderation rules and mutes as the send path reads them: the compiled ``RuleSet``, the
/// muted users and the `rate` windows, all in memory, so screening a message never touches the
/// database. ``Moderation`` changes them (rules, mutes); the message writer reads them for every
/// send it commits.
final class Screener: Sendable {
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

    let limits: HearthConfiguration.ModerationLimits
    let clock: @Sendable () -> Date
    private let state: Mutex<State>

    private init(
        rules: RuleSet, mutes: [Int64: Int64], limits: HearthConfiguration.ModerationLimits,
        clock: @escaping @Sendable () -> Date
    ) {
        self.limits = limits
        self.clock = clock
        state = Mutex(State(rules: rules, mutes: mutes))
    }

    /// Compiles the stored rules and reads the mutes. A stored rule this server cannot compile
    /// (written for an older, backtracking engine) is disabled, with an audit entry, rather than
    /// stopping the server.
    static func load(
        database: AppDatabase, limits: HearthConfiguration.ModerationLimits, clock: @escaping @Sendable () -> Date,
        logger: Logger
    ) throws -> Screener {
        let now = clock().epochMilliseconds
        let (rules, mutes) = try database.readNow { store in (try store.rules(), try store.mutedUsers(now: now)) }
        if let compiled = try? RuleSet(rules: rules, limits: limits) {
            return Screener(rules: compiled, mutes: mutes, limits: limits, clock: clock)
        }
        // Some stored rule does not compile here: find which, one by one, and disable them.
        let broken = RuleSet.uncompilable(rules, limits: limits)
        let kept = try database.writeNow { store in
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
        return Screener(rules: try RuleSet(rules: kept, limits: limits), mutes: mutes, limits: limits, clock: clock)
    }

    var now: Int64 { clock().epochMilliseconds }

    /// Puts a rule set in force, unless a newer change already did; `rate` windows of rules that
    /// are gone are dropped.
    func install(_ compiled: RuleSet, generation: Int) {
        let live = Set(compiled.rules.map(\.id))
        state.withLock { state in
            guard generation > state.generation else { return }
            state.rules = compiled
            state.generation = generation
            state.windows = state.windows.filter { live.contains($0.key.rule) }
        }
    }

    /// Screens a message before it is queued for commit: mutes, then every text and `rate` rule.
    /// `rate` windows count the send unless it is refused. With text rules this is real work
    /// (linear in the message's length): the writer calls it, off the event loops.
    func screen(body: String, roomID: Int64, sender: Sender) -> Screening {
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
    func attachmentHits(_ contentTypes: [String], roomID: Int64, sender: Sender) -> [RuleSet.Hit] {
        let rules = state.withLock { $0.rules }
        let context = RuleSet.Context(roomID: roomID, accountCreatedAt: sender.accountCreatedAt, now: now)
        return rules.attachmentHits(contentTypes, in: context)
    }

    /// What the current rules would do to a message (`POST /api/v1/admin/rules/test`); nothing
    /// is stored and `rate` rules are not counted.
    func test(body: String, roomID: Int64?, contentTypes: [String]) -> RuleTest {
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

    /// Records, inside the writer's transaction, what the rules did to one message: an audit row
    /// per rule that fired, and a review item for held and flagged messages.
    /// An `edit` changes a message everyone has already seen: a `hold` rule cannot keep it from
    /// them, so it flags the message for review like a `flag` rule.
    static func record(
        _ screening: Screening, messageID: Int64?, sender: Sender, roomID: Int64, store: Store, now: Int64,
        edit: Bool = false
    ) throws {
        guard !screening.hits.isEmpty else { return }
        let what = edit ? "edit" : "message"
        let target =
            messageID.map { "\(edit ? "edit of " : "")message \($0) by \(sender.username) in room \(roomID)" }
            ?? "\(sender.username) in room \(roomID)"
        for rule in screening.hits {
            let result = screening.refusal != nil ? "refused" : (screening.outcome?.rawValue ?? "masked")
            try store.audit(.server, "rule_hit", target: target, detail: "\(rule.summary); \(what) \(result)", now: now)
        }
        guard let messageID else { return }
        switch screening.outcome {
        case .hold where !edit:
            try store.openReviewItem(messageID: messageID, reason: .held, rules: screening.summary, now: now)
        case .hold, .flag:
            try store.openReviewItem(messageID: messageID, reason: .flagged, rules: screening.summary, now: now)
        default: break
        }
    }
}

import Foundation
import HearthTestSupport
import Storage
import Testing

@testable import Services

/// Rules as the server compiles them at start and on every change: with RE2, within its memory
/// limit, and never a crash for a rule stored by an older version.
@Suite struct RuleCompilationTests {
    @Test func aStoredRegexRE2CannotRunIsDisabledAtStartWithAnAuditEntry() async throws {
        let first = try TestServices()
        defer { first.remove() }
        // Stored as an older server (ICU, with lookbehind) would have stored them.
        try first.services.database.writeNow { store in
            _ = try store.insertRule(Rule(kind: .regex, pattern: "(?<!not )spam", action: .block))
            _ = try store.insertRule(Rule(kind: .word, pattern: "darn", action: .mask))
        }
        let restarted = try TestServices(directory: first.directory)
        let rules = try await restarted.services.moderation.rules()
        #expect(rules.map { $0.disabled?.contains("lookahead and lookbehind") } == [true, nil])
        let audit = try await restarted.services.moderation.auditLog(AuditFilter(action: "rule_disabled"))
        #expect(audit.map(\.target) == ["rule 1"])
        #expect(audit.first?.actor == "server")
        // The rule is out of force; the others are not.
        let test = restarted.services.moderation.test(body: "spam, darn", roomID: nil, contentTypes: [])
        #expect(test.outcome == "masked" && test.body == "spam, ***")
        // Saving it again, as RE2 can run it, puts it back in force.
        let fixed = try await restarted.services.moderation.updateRule(
            id: 1, RuleDraft(kind: "regex", pattern: "\\bspam\\b", action: "block"), by: .cli)
        #expect(fixed.disabled == nil)
        #expect(try await restarted.services.moderation.rule(id: 1).disabled == nil)
        #expect(restarted.services.moderation.test(body: "spam", roomID: nil, contentTypes: []).outcome == "blocked")
        // A third start finds nothing to disable.
        let again = try TestServices(directory: first.directory)
        #expect(try await again.services.moderation.auditLog(AuditFilter(action: "rule_disabled")).count == 1)
    }

    @Test func aRuleSetOverTheMemoryLimitIsRefusedAndTheRulesStayAsTheyWere() async throws {
        let env = try TestServices { $0.moderation.regexMemoryKiB = 256 }
        defer { env.remove() }
        let moderation = env.services.moderation
        var refusal: String?
        for index in 0..<200 {
            do {
                _ = try await moderation.createRule(
                    RuleDraft(kind: "regex", pattern: "\\w{1,30}\\s*tag\(index)\\w{1,30}", action: "flag"), by: .cli)
            } catch ServiceError.invalidRule(let reason) {
                refusal = reason
                break
            }
        }
        let reason = try #require(refusal)
        #expect(reason.contains("KiB"))
        let kept = try await moderation.rules()
        #expect(!kept.isEmpty && kept.allSatisfy { $0.disabled == nil })
        #expect(try await moderation.auditLog(AuditFilter(action: "rule_created")).count == kept.count)
        // The rules in force still match: the refused one changed nothing.
        let test = moderation.test(body: "hello tag0s", roomID: nil, contentTypes: [])
        #expect(test.outcome == "flagged")
    }
}

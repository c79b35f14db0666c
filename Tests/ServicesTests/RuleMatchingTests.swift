import Foundation
import HearthTestSupport
import Storage
import Testing

@testable import Services

/// The rule matcher: normalization, whole words, phrases, regexes, links, MIME patterns, masks.
@Suite struct RuleMatchingTests {
    static let limits = HearthConfiguration.ModerationLimits()
    static let context = RuleSet.Context(roomID: 1, accountCreatedAt: 0, now: 1)

    func rule(_ kind: Rule.Kind, _ pattern: String, _ action: Rule.Action = .block, id: Int64 = 1) -> Rule {
        Rule(id: id, kind: kind, pattern: pattern, action: action)
    }

    func hits(_ rules: [Rule], _ text: String) throws -> [Int64] {
        try RuleSet(rules: rules, limits: Self.limits).textHits(text, in: Self.context).map(\.rule.id)
    }

    @Test func wordsMatchWholeAndIgnoreCaseWidthAndInvisibleCharacters() throws {
        let rules = [rule(.word, "darn")]
        for text in ["darn", "Oh DARN it", "ｄａｒｎ!", "d\u{200B}arn", "well,darn.", "DaRn"] {
            #expect(try hits(rules, text) == [1], "\(text)")
        }
        for text in ["darning socks", "undarned", "da rn", "d-arn"] {
            #expect(try hits(rules, text).isEmpty, "\(text)")
        }
        // Full case folding: ß matches ss.
        #expect(try hits([rule(.word, "strasse")], "Die STRAẞE und die Straße") == [1])
    }

    @Test func phrasesMatchTheirWordsInOrder() throws {
        let rules = [rule(.word, "shut up")]
        #expect(try hits(rules, "oh Shut   UP now") == [1])
        #expect(try hits(rules, "shut the door, up") == [])
    }

    @Test func masksReplaceExactlyWhatMatched() throws {
        let set = try RuleSet(
            rules: [rule(.word, "darn", .mask), rule(.word, "heck", .mask, id: 2)], limits: Self.limits)
        let text = "Darn, what the ＨＥＣＫ; darn!"
        let ranges = set.textHits(text, in: Self.context).flatMap(\.ranges)
        #expect(RuleSet.masking(text, ranges: ranges) == "***, what the ***; ***!")
    }

    @Test func regexesMatchCaseInsensitivelyAndTogether() throws {
        let rules = (1...50).map { rule(.regex, "win\\s+\\$?\($0)00\\b", .flag, id: Int64($0)) }
        #expect(try hits(rules, "You WIN $4200 now") == [42])
        #expect(try hits(rules, "You WIN $4201 or win 700!") == [7])
        #expect(try hits(rules, String(repeating: "lorem ipsum ", count: 100)) == [])
    }

    @Test func linksMatchDomainsAndSubdomains() throws {
        let rules = [rule(.link, "example.com"), rule(.link, "*", .flag, id: 2)]
        #expect(try hits(rules, "see https://www.Example.com/page?x=1.") == [1, 2])
        #expect(try hits(rules, "see http://notexample.com/") == [2])
        #expect(try hits(rules, "look: www.other.org") == [2])
        #expect(try hits(rules, "bare example.com/offer works too") == [1, 2])
        #expect(try hits(rules, "ＥＸＡＭＰＬＥ．ｃｏｍ") == [1, 2])
        #expect(try hits(rules, "the file notes.txt, v1.2 and 3.14") == [])
    }

    @Test func attachmentTypesMatchMimePatterns() throws {
        let set = try RuleSet(
            rules: [rule(.attachmentType, "image/*", .hold), rule(.attachmentType, "application/pdf", id: 2)],
            limits: Self.limits)
        #expect(set.attachmentHits(["image/png"], in: Self.context).map(\.rule.id) == [1])
        #expect(set.attachmentHits(["text/plain", "application/PDF; x=y"], in: Self.context).map(\.rule.id) == [2])
        #expect(set.attachmentHits(["audio/ogg"], in: Self.context).isEmpty)
    }

    @Test func scopeAndAccountAgeDecideWhereARuleApplies() throws {
        var scoped = rule(.word, "darn")
        scoped.roomID = 2
        var newcomers = rule(.link, "*", .hold, id: 2)
        newcomers.newAccountDays = 7
        let set = try RuleSet(rules: [scoped, newcomers], limits: Self.limits)
        let day: Int64 = 86_400_000
        let young = RuleSet.Context(roomID: 1, accountCreatedAt: 0, now: 3 * day)
        let old = RuleSet.Context(roomID: 2, accountCreatedAt: 0, now: 30 * day)
        #expect(set.textHits("darn https://x.org", in: young).map(\.rule.id) == [2])
        #expect(set.textHits("darn https://x.org", in: old).map(\.rule.id) == [1])
    }

    @Test func badRulesAreRefusedWithTheirReason() {
        func reason(_ kind: String, _ pattern: String, _ action: String = "block") -> String? {
            do {
                _ = try RuleDraft(kind: kind, pattern: pattern, action: action).validated(limits: Self.limits)
                return nil
            } catch {
                guard case .invalidRule(let reason) = error else { return "\(error)" }
                return reason
            }
        }
        #expect(reason("word", "darn") == nil)
        #expect(reason("regex", "(a|b)c+") == nil)
        #expect(reason("rate", "20/60s") == nil)
        #expect(reason("rate", "5/2m") == nil)
        #expect(reason("phrase", "x")?.contains("unknown kind") == true)
        #expect(reason("word", "x", "shout")?.contains("unknown action") == true)
        #expect(reason("word", "   ")?.contains("empty") == true)
        #expect(reason("word", "!!!")?.contains("letters or digits") == true)
        #expect(reason("regex", "(unclosed")?.contains("does not compile") == true)
        // RE2 matches these in linear time: nothing about them is slow any more.
        #expect(reason("regex", "(a+)+b") == nil)
        #expect(reason("regex", "(a|ab)*c") == nil)
        #expect(reason("regex", "free.*money.*now") == nil)
        // What needs backtracking is refused by name.
        #expect(reason("regex", "(x)\\1")?.contains("backreferences") == true)
        #expect(reason("regex", "(?<n>x)\\k<n>")?.contains("backreferences") == true)
        #expect(reason("regex", "spam(?=\\d)")?.contains("lookahead and lookbehind") == true)
        #expect(reason("regex", "(?<!not )spam")?.contains("lookahead and lookbehind") == true)
        #expect(reason("regex", "[(?=]spam") == nil)
        #expect(reason("regex", "\\(?=x")?.contains("lookahead") == nil)
        #expect(reason("regex", "a{2000}")?.contains("does not compile") == true)
        #expect(reason("regex", "a*")?.contains("empty text") == true)
        #expect(reason("regex", String(repeating: "a", count: 201))?.contains("longer than") == true)
        #expect(reason("rate", "0/60s")?.contains("1 to") == true)
        #expect(reason("rate", "20 a minute")?.contains("N/60s") == true)
        #expect(reason("rate", "20/0s")?.contains("window") == true)
        #expect(reason("rate", "20/60s", "mask")?.contains("mask") == true)
        #expect(reason("attachment_type", "images")?.contains("MIME") == true)
        #expect(reason("link", "not a domain")?.contains("domain") == true)
    }

    @Test func ratesAreNormalized() throws {
        #expect(try RateLimit(parsing: "20/1m", limits: Self.limits).description == "20/60s")
        #expect(try RateLimit(parsing: "3 / 2h", limits: Self.limits).description == "3/7200s")
    }
}

/// RE2 through the shim: where matches are, in a text with characters of every width.
@Suite struct LinearRegexTests {
    func matched(_ pattern: String, _ text: String) throws -> [String] {
        try LinearRegex(pattern, maxMemory: 1 << 20).ranges(in: text).map { String(text[$0]) }
    }

    @Test func rangesAreWholeCharactersAndCaseIsIgnored() throws {
        #expect(try matched("gr[üu]n", "Grün, GRUN and grün 🎉") == ["Grün", "GRUN", "grün"])
        #expect(try matched("(?-i)Grün", "Grün grün") == ["Grün"])
        #expect(try matched("🎉+", "a 🎉🎉 b 🎉") == ["🎉🎉", "🎉"])
        // An empty match steps over a whole character and the scan ends.
        #expect(try matched("x*", "🎉x🎉") == ["x"])
    }

    @Test func theSetSaysWhichPatternsMatch() throws {
        let set = try LinearRegexSet(["prize\\d+", "spam|scam", "casino.*bonus"], maxMemory: 1 << 20)
        #expect(set.matching("You won a PRIZE7!") == [0])
        #expect(set.matching("casino SCAM bonus") == [1, 2])
        #expect(set.matching("dinner at seven") == [])
    }

    @Test func aSetOverTheMemoryLimitIsRefused() {
        let patterns = (0..<40).map { "(?:\\w{2,40}\\s*x\($0)){1,30}" }
        #expect(throws: LinearRegexSet.CompileError.self) { try LinearRegexSet(patterns, maxMemory: 64 * 1024) }
    }
}

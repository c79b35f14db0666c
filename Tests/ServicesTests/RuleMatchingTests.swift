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

    func hits(_ rules: [Rule], _ text: String) -> [Int64] {
        RuleSet(rules: rules, limits: Self.limits).textHits(text, in: Self.context).map(\.rule.id)
    }

    @Test func wordsMatchWholeAndIgnoreCaseWidthAndInvisibleCharacters() {
        let rules = [rule(.word, "darn")]
        for text in ["darn", "Oh DARN it", "ｄａｒｎ!", "d\u{200B}arn", "well,darn.", "DaRn"] {
            #expect(hits(rules, text) == [1], "\(text)")
        }
        for text in ["darning socks", "undarned", "da rn", "d-arn"] {
            #expect(hits(rules, text).isEmpty, "\(text)")
        }
        // Full case folding: ß matches ss.
        #expect(hits([rule(.word, "strasse")], "Die STRAẞE und die Straße") == [1])
    }

    @Test func phrasesMatchTheirWordsInOrder() {
        let rules = [rule(.word, "shut up")]
        #expect(hits(rules, "oh Shut   UP now") == [1])
        #expect(hits(rules, "shut the door, up") == [])
    }

    @Test func masksReplaceExactlyWhatMatched() {
        let set = RuleSet(rules: [rule(.word, "darn", .mask), rule(.word, "heck", .mask, id: 2)], limits: Self.limits)
        let text = "Darn, what the ＨＥＣＫ; darn!"
        let ranges = set.textHits(text, in: Self.context).flatMap(\.ranges)
        #expect(RuleSet.masking(text, ranges: ranges) == "***, what the ***; ***!")
    }

    @Test func regexesMatchCaseInsensitivelyAndTogether() {
        let rules = (1...50).map { rule(.regex, "win\\s+\\$?\($0)00\\b", .flag, id: Int64($0)) }
        #expect(hits(rules, "You WIN $4200 now") == [42])
        #expect(hits(rules, "You WIN $4201 or win 700!") == [7])
        #expect(hits(rules, String(repeating: "lorem ipsum ", count: 100)) == [])
    }

    @Test func linksMatchDomainsAndSubdomains() {
        let rules = [rule(.link, "example.com"), rule(.link, "*", .flag, id: 2)]
        #expect(hits(rules, "see https://www.Example.com/page?x=1.") == [1, 2])
        #expect(hits(rules, "see http://notexample.com/") == [2])
        #expect(hits(rules, "look: www.other.org") == [2])
        #expect(hits(rules, "bare example.com/offer works too") == [1, 2])
        #expect(hits(rules, "ＥＸＡＭＰＬＥ．ｃｏｍ") == [1, 2])
        #expect(hits(rules, "the file notes.txt, v1.2 and 3.14") == [])
    }

    @Test func attachmentTypesMatchMimePatterns() {
        let set = RuleSet(
            rules: [rule(.attachmentType, "image/*", .hold), rule(.attachmentType, "application/pdf", id: 2)],
            limits: Self.limits)
        #expect(set.attachmentHits(["image/png"], in: Self.context).map(\.rule.id) == [1])
        #expect(set.attachmentHits(["text/plain", "application/PDF; x=y"], in: Self.context).map(\.rule.id) == [2])
        #expect(set.attachmentHits(["audio/ogg"], in: Self.context).isEmpty)
    }

    @Test func scopeAndAccountAgeDecideWhereARuleApplies() {
        var scoped = rule(.word, "darn")
        scoped.roomID = 2
        var newcomers = rule(.link, "*", .hold, id: 2)
        newcomers.newAccountDays = 7
        let set = RuleSet(rules: [scoped, newcomers], limits: Self.limits)
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
        #expect(reason("regex", "(a+)+b")?.contains("repetition inside repetition") == true)
        #expect(reason("regex", "(a|ab)*c")?.contains("alternation") == true)
        #expect(reason("regex", "(x)\\1")?.contains("backreference") == true)
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

/// The literal each regex requires, which decides whether it runs at all.
@Suite struct RegexPrefilterTests {
    func literal(_ pattern: String) -> String? {
        RegexPrefilter.requiredLiteral(pattern).map { String(decoding: $0, as: UTF8.self) }
    }

    @Test func theLongestRequiredTextIsFound() {
        #expect(literal("\\b(?:free|cheap)\\s+prize7\\d*\\b") == "prize7")
        #expect(literal("Casino.*bonus") == "casino")
        #expect(literal("win\\s+\\$?4200\\b") == "4200")
        #expect(literal("colou?r scheme") == "r scheme")
        #expect(literal("ab+cde") == "cde")
        #expect(literal("https?://bit\\.ly/") == "://bit.ly/")
        #expect(literal("[a-z]+@evil\\.org") == "@evil.org")
        #expect(literal("x{0,3}yzw") == "yzw")
    }

    @Test func patternsWithoutOneAlwaysRun() {
        #expect(literal("spam|scam") == nil)
        #expect(literal("\\d{6,}") == nil)
        #expect(literal("a.b.c") == nil)
        #expect(literal("(?x) s p a m") == nil)
        #expect(literal("grüß") == nil)
    }

    @Test func candidatesAreTheRegexesWhoseTextIsThere() {
        let filter = RegexPrefilter(patterns: ["prize\\d+", "spam|scam", "casino.*bonus", "strasse", "final"])
        #expect(filter.candidates(in: "You won a PRIZE!", count: 5) == [0, 1])
        #expect(filter.candidates(in: "dinner at seven", count: 5) == [1])
        #expect(filter.candidates(in: "Casino", count: 5) == [1, 2])
        #expect(filter.candidates(in: "grün 🎉", count: 5) == [1])
        // Characters whose case folding has ASCII letters are folded before the scan.
        #expect(filter.candidates(in: "Die STRAẞE", count: 5) == [1, 3])
        #expect(filter.candidates(in: "the ﬁnal one", count: 5) == [1, 4])
    }
}

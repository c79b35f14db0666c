import Foundation
import Storage

/// The moderation rules compiled for the send path: built once whenever a rule changes, then
/// shared read-only by every connection.
///
/// - `word` rules go into one table keyed by their first normalized word, so a message costs one
///   lookup per word however many rules there are;
/// - `regex` rules run only when the text has the plain text they require (``RegexPrefilter``:
///   one pass over the message for all of them), so most messages run none;
/// - `link`, `attachment_type` and `rate` rules are short lists checked in turn.
final class RuleSet: Sendable {
    /// A rule that matched, and (for text rules) where in the message.
    struct Hit: Sendable {
        let rule: Rule
        let ranges: [Range<String.Index>]
    }

    /// Who sends, where: what decides whether a scoped or new-account rule applies.
    struct Context: Sendable {
        let roomID: Int64
        let accountCreatedAt: Int64
        let now: Int64
    }

    /// A word rule: its normalized words and their hashes.
    private struct Phrase: Sendable {
        let keys: [String]
        let hashes: [UInt64]
        let rule: Int
    }

    private struct CompiledRegex: @unchecked Sendable {
        // NSRegularExpression is immutable once built and safe to share between threads.
        let regex: NSRegularExpression
        let rule: Int
    }

    let rules: [Rule]
    /// Word rules by the hash of their first word.
    private let phrases: [UInt64: [Phrase]]
    private let regexes: [CompiledRegex]
    private let prefilter: RegexPrefilter
    private let links: [Int]
    private let attachmentTypes: [Int]
    let rates: [(rule: Rule, limit: RateLimit)]

    /// Compiles `rules`; a rule that no longer compiles (stored by an older version) is skipped.
    init(rules: [Rule], limits: HearthConfiguration.ModerationLimits) {
        self.rules = rules
        var phrases: [UInt64: [Phrase]] = [:]
        var regexes: [CompiledRegex] = []
        var links: [Int] = []
        var attachmentTypes: [Int] = []
        var rates: [(Rule, RateLimit)] = []
        for (index, rule) in rules.enumerated() {
            switch rule.kind {
            case .word:
                let keys = WordScanner.keys(of: rule.pattern)
                let hashes = keys.map(WordScanner.hash)
                guard let first = hashes.first else { continue }
                phrases[first, default: []].append(Phrase(keys: keys, hashes: hashes, rule: index))
            case .regex:
                if let regex = try? NSRegularExpression(pattern: rule.pattern, options: [.caseInsensitive]) {
                    regexes.append(CompiledRegex(regex: regex, rule: index))
                }
            case .link: links.append(index)
            case .attachmentType: attachmentTypes.append(index)
            case .rate:
                if let limit = try? RateLimit(parsing: rule.pattern, limits: limits) { rates.append((rule, limit)) }
            }
        }
        self.phrases = phrases
        self.regexes = regexes
        prefilter = RegexPrefilter(patterns: regexes.map { rules[$0.rule].pattern })
        self.links = links
        self.attachmentTypes = attachmentTypes
        self.rates = rates
    }

    var isEmpty: Bool { rules.isEmpty }

    /// Whether `rule` applies to a message sent in `context`.
    static func applies(_ rule: Rule, in context: Context) -> Bool {
        if let room = rule.roomID, room != context.roomID { return false }
        if let days = rule.newAccountDays, context.now - context.accountCreatedAt >= Int64(days) * 86_400_000 {
            return false
        }
        return true
    }

    /// The `word`, `regex` and `link` rules that match `text`.
    func textHits(_ text: String, in context: Context) -> [Hit] {
        var hits: [Int: [Range<String.Index>]] = [:]
        if !phrases.isEmpty {
            let words = WordScanner.words(in: text)
            for (position, word) in words.enumerated() {
                guard let candidates = phrases[word.hash] else { continue }
                for phrase in candidates where position + phrase.keys.count <= words.count {
                    var matches = true
                    for offset in 0..<phrase.keys.count {
                        let candidate = words[position + offset]
                        // The hash finds candidates; the text decides.
                        guard candidate.hash == phrase.hashes[offset],
                            WordScanner.key(of: candidate, in: text) == phrase.keys[offset]
                        else {
                            matches = false
                            break
                        }
                    }
                    guard matches, Self.applies(rules[phrase.rule], in: context) else { continue }
                    let utf8 = text.utf8
                    let start = utf8.index(utf8.startIndex, offsetBy: word.start)
                    let end = utf8.index(utf8.startIndex, offsetBy: words[position + phrase.keys.count - 1].end)
                    hits[phrase.rule, default: []].append(start..<end)
                }
            }
        }
        if !regexes.isEmpty {
            let whole = NSRange(text.startIndex..., in: text)
            for candidate in prefilter.candidates(in: text, count: regexes.count) {
                let compiled = regexes[candidate]
                guard Self.applies(rules[compiled.rule], in: context) else { continue }
                let ranges = compiled.regex.matches(in: text, range: whole).compactMap { Range($0.range, in: text) }
                if !ranges.isEmpty { hits[compiled.rule, default: []].append(contentsOf: ranges) }
            }
        }
        if !links.isEmpty {
            let found = LinkScanner.links(in: text)
            if !found.isEmpty {
                for index in links where Self.applies(rules[index], in: context) {
                    let domain = rules[index].pattern
                    let ranges = found.filter { domain == "*" || LinkScanner.host($0.host, isIn: domain) }.map(\.range)
                    if !ranges.isEmpty { hits[index, default: []].append(contentsOf: ranges) }
                }
            }
        }
        return hits.keys.sorted().map { Hit(rule: rules[$0], ranges: hits[$0] ?? []) }
    }

    /// The `attachment_type` rules that match any of `contentTypes`.
    func attachmentHits(_ contentTypes: [String], in context: Context) -> [Hit] {
        guard !contentTypes.isEmpty else { return [] }
        return attachmentTypes.compactMap { index in
            let rule = rules[index]
            guard Self.applies(rule, in: context),
                contentTypes.contains(where: { Self.mimeType($0, matches: rule.pattern) })
            else { return nil }
            return Hit(rule: rule, ranges: [])
        }
    }

    /// Whether a content type (parameters ignored) matches `type/subtype`, `type/*` or `*/*`.
    static func mimeType(_ contentType: String, matches pattern: String) -> Bool {
        let type = contentType.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
        let lowered = type.lowercased()
        if pattern == "*/*" { return true }
        if pattern.hasSuffix("/*") { return lowered.hasPrefix(pattern.dropLast()) }
        return lowered == pattern
    }

    /// `text` with every range replaced by `***` (overlapping ranges merged).
    static func masking(_ text: String, ranges: [Range<String.Index>]) -> String {
        guard !ranges.isEmpty else { return text }
        var merged: [Range<String.Index>] = []
        for range in ranges.sorted(by: { $0.lowerBound < $1.lowerBound }) {
            if let last = merged.last, range.lowerBound <= last.upperBound {
                merged[merged.count - 1] = last.lowerBound..<max(last.upperBound, range.upperBound)
            } else {
                merged.append(range)
            }
        }
        var out = ""
        var cursor = text.startIndex
        for range in merged {
            out += text[cursor..<range.lowerBound]
            out += "***"
            cursor = range.upperBound
        }
        out += text[cursor...]
        return out
    }
}

import Foundation
import Storage

/// The moderation rules compiled for the send path: built once whenever a rule changes, then
/// shared read-only by every connection.
///
/// - `word` rules go into one table keyed by their first normalized word, so a message costs one
///   lookup per word however many rules there are;
/// - `regex` rules are compiled by RE2 twice: all together into one set, so a single pass over
///   the message (linear in its length) says which of them match, and each alone, run only on a
///   message the set says it matches, to find where (for masks and the audit log);
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

    private struct CompiledRegex: Sendable {
        let regex: LinearRegex
        let rule: Int
    }

    let rules: [Rule]
    /// Word rules by the hash of their first word.
    private let phrases: [UInt64: [Phrase]]
    private let regexes: [CompiledRegex]
    /// Every regex rule in one RE2 set, when there are any.
    private let regexSet: LinearRegexSet?
    private let links: [Int]
    private let attachmentTypes: [Int]
    let rates: [(rule: Rule, limit: RateLimit)]

    /// Compiles the rules in force (disabled ones are left out). Throws ``ServiceError/invalidRule(_:)``
    /// when a regex does not compile or the regex rules together need more memory than
    /// `regexMemoryKiB`; ``uncompilable(_:limits:)`` finds such rules among stored ones.
    init(rules: [Rule], limits: HearthConfiguration.ModerationLimits) throws(ServiceError) {
        let rules = rules.filter { $0.disabled == nil }
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
                let regex = try RegexCheck.compile(rule.pattern, maxMemory: limits.regexMemoryBytes)
                regexes.append(CompiledRegex(regex: regex, rule: index))
            case .link: links.append(index)
            case .attachmentType: attachmentTypes.append(index)
            case .rate:
                if let limit = try? RateLimit(parsing: rule.pattern, limits: limits) { rates.append((rule, limit)) }
            }
        }
        self.phrases = phrases
        self.regexes = regexes
        regexSet = try Self.regexSet(regexes.map { rules[$0.rule].pattern }, limits: limits)
        self.links = links
        self.attachmentTypes = attachmentTypes
        self.rates = rates
    }

    var isEmpty: Bool { rules.isEmpty }

    /// One RE2 set of `patterns`, nil for none; refused over the memory limit.
    private static func regexSet(
        _ patterns: [String], limits: HearthConfiguration.ModerationLimits
    ) throws(ServiceError) -> LinearRegexSet? {
        guard !patterns.isEmpty else { return nil }
        do {
            return try LinearRegexSet(patterns, maxMemory: limits.regexMemoryBytes)
        } catch {
            switch error {
            case .overMemoryLimit:
                throw .invalidRule(
                    "the regex rules together need more than \(limits.regexMemoryKiB) KiB to compile "
                        + "(HEARTH_RULE_REGEX_MEMORY_KIB): simplify or remove one")
            case .pattern(_, let reason):
                throw .invalidRule("the regular expression does not compile: \(reason)")
            }
        }
    }

    /// The stored rules in force that this server cannot compile, and why: each regex alone
    /// (one written for an older, backtracking engine may use what RE2 lacks), then all of them
    /// together, the newest left out until the rest fit the memory limit.
    static func uncompilable(
        _ rules: [Rule], limits: HearthConfiguration.ModerationLimits
    ) -> [(rule: Rule, reason: String)] {
        var broken: [(rule: Rule, reason: String)] = []
        var fitting: [Rule] = []
        for rule in rules where rule.kind == .regex && rule.disabled == nil {
            do {
                _ = try RegexCheck.compile(rule.pattern, maxMemory: limits.regexMemoryBytes)
                fitting.append(rule)
            } catch {
                broken.append((rule, error.message))
            }
        }
        while !fitting.isEmpty, (try? regexSet(fitting.map(\.pattern), limits: limits)) == nil {
            let newest = fitting.removeLast()
            broken.append(
                (newest, "the regex rules together need more than \(limits.regexMemoryKiB) KiB to compile"))
        }
        return broken
    }

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
        if let regexSet {
            // RE2 falls back on running each regex alone when the set's DFA runs out of memory.
            for candidate in regexSet.matching(text) ?? Array(regexes.indices) {
                let compiled = regexes[candidate]
                guard Self.applies(rules[compiled.rule], in: context) else { continue }
                let ranges = compiled.regex.ranges(in: text)
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

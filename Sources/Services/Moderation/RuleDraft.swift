import Foundation
import Storage

/// A rule as an admin writes it (`POST /api/v1/admin/rules`), before it is checked.
public struct RuleDraft: Sendable, Equatable {
    public var kind: String
    public var pattern: String
    public var action: String
    /// A room id, or nil for every room.
    public var scope: Int64?
    public var message: String?
    public var newAccountDays: Int?

    public init(
        kind: String, pattern: String, action: String, scope: Int64? = nil, message: String? = nil,
        newAccountDays: Int? = nil
    ) {
        self.kind = kind
        self.pattern = pattern
        self.action = action
        self.scope = scope
        self.message = message
        self.newAccountDays = newAccountDays
    }

    /// The rule this draft describes, with its pattern in canonical form; ``ServiceError/invalidRule(_:)``
    /// says what is wrong otherwise. Whether the scope room exists is checked by the caller.
    func validated(limits: HearthConfiguration.ModerationLimits) throws(ServiceError) -> Rule {
        guard let kind = Rule.Kind(rawValue: kind) else {
            throw .invalidRule("unknown kind '\(kind.prefix(32))'; use word, regex, link, attachment_type or rate")
        }
        guard let action = Rule.Action(rawValue: action) else {
            throw .invalidRule("unknown action '\(action.prefix(32))'; use block, mask, hold or flag")
        }
        let pattern = pattern.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !pattern.isEmpty else { throw .invalidRule("the pattern is empty") }
        let maxLength = kind == .regex ? limits.regexMaxCharacters : limits.patternMaxCharacters
        guard pattern.count <= maxLength else {
            throw .invalidRule("the pattern is longer than \(maxLength) characters")
        }
        if action == .mask, kind == .attachmentType || kind == .rate {
            throw .invalidRule("mask replaces text: use it with word, regex or link rules")
        }
        let canonical: String
        switch kind {
        case .word:
            let keys = WordScanner.keys(of: pattern)
            guard !keys.isEmpty else { throw .invalidRule("a word rule needs letters or digits") }
            canonical = pattern
        case .regex:
            _ = try RegexCheck.compile(pattern, maxMemory: limits.regexMemoryBytes)
            canonical = pattern
        case .link:
            canonical = try Self.domain(pattern)
        case .attachmentType:
            canonical = try Self.mimePattern(pattern)
        case .rate:
            let limit = try RateLimit(parsing: pattern, limits: limits)
            canonical = limit.description
        }
        if let message, message.count > limits.ruleMessageMaxCharacters {
            throw .invalidRule("the message is longer than \(limits.ruleMessageMaxCharacters) characters")
        }
        if let days = newAccountDays, !(1...3650).contains(days) {
            throw .invalidRule("newAccountDays must be 1 to 3650")
        }
        if let scope, scope <= 0 { throw .invalidRule("scope must be a room id") }
        let message = message?.trimmingCharacters(in: .whitespacesAndNewlines)
        return Rule(
            kind: kind, pattern: canonical, action: action, roomID: scope,
            message: message?.isEmpty == false ? message : nil, newAccountDays: newAccountDays)
    }

    /// `*`, or a domain such as `example.com` (a URL is reduced to its host).
    static func domain(_ pattern: String) throws(ServiceError) -> String {
        if pattern == "*" { return pattern }
        let candidate = pattern.contains("://") ? pattern : "https://" + pattern
        guard let host = LinkScanner.host(of: Substring(candidate)) else {
            throw .invalidRule("a link rule takes a domain such as example.com, or * for any link")
        }
        return host
    }

    /// A MIME pattern: `image/png`, `image/*` or `*/*`.
    static func mimePattern(_ pattern: String) throws(ServiceError) -> String {
        let lowered = pattern.lowercased()
        if lowered == "*" { return "*/*" }
        let parts = lowered.split(separator: "/", omittingEmptySubsequences: false)
        let token = { (part: Substring) in
            !part.isEmpty && part.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "!#$&^_.+-".contains($0)) }
        }
        guard parts.count == 2, parts[0] == "*" ? parts[1] == "*" : token(parts[0]),
            parts[1] == "*" || token(parts[1])
        else {
            throw .invalidRule("an attachment_type rule takes a MIME type such as image/png, image/* or */*")
        }
        return lowered
    }
}

/// The `N/60s` of a `rate` rule: at most `count` messages per user in `window` seconds.
struct RateLimit: Sendable, Equatable, CustomStringConvertible {
    let count: Int
    let window: Int

    /// Parses `N/Ws`, `N/Wm` or `N/Wh` (a bare `N/W` is seconds).
    init(parsing text: String, limits: HearthConfiguration.ModerationLimits) throws(ServiceError) {
        let parts = text.replacingOccurrences(of: " ", with: "").lowercased().split(
            separator: "/", omittingEmptySubsequences: false)
        let unit: Int
        var windowText = parts.count == 2 ? parts[1] : ""
        switch windowText.last {
        case "s": unit = 1
        case "m": unit = 60
        case "h": unit = 3600
        default: unit = 1
        }
        if windowText.last?.isLetter == true { windowText = windowText.dropLast() }
        guard parts.count == 2, let count = Int(parts[0]), let amount = Int(windowText) else {
            throw .invalidRule("a rate rule is written N/60s: at most N messages per user in 60 seconds")
        }
        guard count >= 1, count <= limits.rateMaxCount else {
            throw .invalidRule("the rate's N must be 1 to \(limits.rateMaxCount)")
        }
        let (window, overflow) = amount.multipliedReportingOverflow(by: unit)
        guard amount >= 1, !overflow, Double(window) <= limits.rateMaxWindow else {
            throw .invalidRule("the rate's window must be 1 second to \(Int(limits.rateMaxWindow)) seconds")
        }
        self.count = count
        self.window = window
    }

    var description: String { "\(count)/\(window)s" }
}

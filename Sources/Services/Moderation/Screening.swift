import Foundation
import Storage

/// What the rules made of one message on its way in: the text to store, the rules that fired,
/// and what happens to it.
struct Screening: Sendable {
    /// The text to store and deliver, with every `mask` match replaced by `***`.
    var body: String
    /// Every rule that fired, in rule order.
    var hits: [Rule] = []
    /// Why the send is refused (a `block` rule, a `rate` rule, a mute); nil when it goes through.
    var refusal: ServiceError?

    init(body: String, hits: [Rule] = [], refusal: ServiceError? = nil) {
        self.body = body
        self.hits = hits
        self.refusal = refusal
    }

    /// What the text rules that fired make of `body`: every mask applied, refused when one blocks.
    init(_ body: String, textHits: [RuleSet.Hit]) {
        self.body = RuleSet.masking(body, ranges: textHits.filter { $0.rule.action == .mask }.flatMap(\.ranges))
        hits = textHits.map(\.rule)
        if let block = textHits.first(where: { $0.rule.action == .block }) {
            refusal = .blockedByRule(block.rule.message)
        }
    }

    /// The strictest action of the rules that fired, masks aside: `block`, `hold`, `flag` or nil.
    var outcome: Rule.Action? {
        hits.map(\.action).filter { $0 != .mask }.max()
    }

    /// Adds rules that fired on the message's attachments (refusing it if one blocks).
    mutating func add(attachmentHits: [RuleSet.Hit]) {
        guard !attachmentHits.isEmpty else { return }
        hits.append(contentsOf: attachmentHits.map(\.rule))
        if refusal == nil, let block = attachmentHits.first(where: { $0.rule.action == .block }) {
            refusal = .blockedByRule(block.rule.message)
        }
    }

    /// The rules that fired, one summary a line: what the review queue and the audit log show.
    var summary: String? {
        hits.isEmpty ? nil : hits.map(\.summary).joined(separator: "\n")
    }
}

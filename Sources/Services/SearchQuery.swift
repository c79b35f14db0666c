import Foundation

/// What a person types into the search box, as an FTS5 query. Words match whole words (ignoring
/// case and accents), `gard*` matches words that start with "gard", text in double quotes is a
/// phrase, and `OR` and `NOT` (in capitals) join terms; everything else is a word to find, so
/// "where's dad?" just works and nothing typed reaches SQLite as syntax.
public struct SearchQuery: Sendable, Equatable {
    /// The FTS5 expression.
    public let expression: String

    /// The longest query, in characters.
    public static let maximumLength = 256

    public init(_ text: String) throws(ServiceError) {
        let text = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !text.isEmpty else { throw .invalidQuery("Type a word to search for.") }
        guard text.count <= Self.maximumLength else {
            throw .invalidQuery("A search may be at most \(Self.maximumLength) characters long.")
        }
        var terms: [String] = []
        var rest = Substring(text)
        while let first = rest.first {
            if first.isWhitespace {
                rest = rest.dropFirst()
            } else if first == "\"" {
                guard let close = rest.dropFirst().firstIndex(of: "\"") else {
                    throw .invalidQuery("A quoted phrase is not closed: add the closing \" after it.")
                }
                let phrase = rest[rest.index(after: rest.startIndex)..<close]
                if phrase.contains(where: { $0.isLetter || $0.isNumber }) { terms.append(Self.quoted(phrase)) }
                rest = rest[rest.index(after: close)...]
            } else {
                let word = rest.prefix { !$0.isWhitespace && $0 != "\"" }
                rest = rest.dropFirst(word.count)
                if word == "OR" || word == "NOT" {
                    terms.append(String(word))
                } else if word.hasSuffix("*") {
                    let stem = word.dropLast()
                    guard stem.contains(where: { $0.isLetter || $0.isNumber }), !stem.contains("*") else {
                        throw .invalidQuery("A * goes after the start of a word: gard* finds garden and gardening.")
                    }
                    terms.append(Self.quoted(stem) + "*")
                } else if word.contains(where: { $0.isLetter || $0.isNumber }) {
                    terms.append(Self.quoted(word))
                }
            }
        }
        // OR and NOT join two terms: not at either end, never two in a row.
        while let last = terms.last, last == "OR" || last == "NOT" { terms.removeLast() }
        while let first = terms.first, first == "OR" || first == "NOT" { terms.removeFirst() }
        var joined: [String] = []
        for term in terms {
            if ["OR", "NOT"].contains(term), let previous = joined.last, ["OR", "NOT"].contains(previous) { continue }
            joined.append(term)
        }
        guard !joined.isEmpty else { throw .invalidQuery("Type a word to search for: letters or digits.") }
        expression = joined.joined(separator: " ")
    }

    /// `text` as an FTS5 string: in double quotes, its own quotes doubled.
    static func quoted(_ text: Substring) -> String {
        "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}

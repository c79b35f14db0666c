import Foundation

/// Checks a `regex` rule's pattern before it is saved, so that its cost per message stays bounded.
///
/// ICU's matcher backtracks; the patterns that make backtracking explode are repetition inside
/// repetition (`(a+)+`), repeated alternation (`(a|ab)*`) and backreferences. Those are refused,
/// as are patterns that do not compile and patterns that match the empty text (they would match
/// every message).
enum RegexCheck {
    static func check(_ pattern: String) throws(ServiceError) {
        try checkStructure(pattern)
        let regex: NSRegularExpression
        do {
            regex = try NSRegularExpression(pattern: pattern, options: [.caseInsensitive])
        } catch {
            throw .invalidRule("the regular expression does not compile")
        }
        if regex.firstMatch(in: "", range: NSRange(location: 0, length: 0)) != nil {
            throw .invalidRule("the regular expression matches an empty text, so it would match every message")
        }
    }

    private struct Group {
        var repeats = false
        var alternates = false
    }

    static func checkStructure(_ pattern: String) throws(ServiceError) {
        let characters = Array(pattern)
        var stack = [Group()]
        var index = 0
        /// Whether the text at `index` is a quantifier that repeats without bound.
        func unboundedQuantifier(at index: Int) -> Bool {
            guard index < characters.count else { return false }
            switch characters[index] {
            case "*", "+": return true
            case "{":
                var end = index + 1
                while end < characters.count, characters[end] != "}" { end += 1 }
                guard end < characters.count else { return false }
                let inside = String(characters[(index + 1)..<end])
                let bounds = inside.split(separator: ",", omittingEmptySubsequences: false)
                if bounds.count == 2 { return bounds[1].isEmpty || (Int(bounds[1]) ?? 0) > 1 }
                return (Int(inside) ?? 0) > 1
            default: return false
            }
        }
        while index < characters.count {
            let character = characters[index]
            switch character {
            case "\\":
                let next = index + 1 < characters.count ? characters[index + 1] : " "
                if next.isNumber && next != "0" || next == "k" {
                    throw .invalidRule("backreferences are not allowed: they make matching slow")
                }
                index += 2
                if unboundedQuantifier(at: index) { stack[stack.count - 1].repeats = true }
                continue
            case "[":
                // Skip a character class: `]` right after `[` or `[^` is literal.
                index += 1
                if index < characters.count, characters[index] == "^" { index += 1 }
                if index < characters.count, characters[index] == "]" { index += 1 }
                while index < characters.count, characters[index] != "]" {
                    index += characters[index] == "\\" ? 2 : 1
                }
                index += 1
                if unboundedQuantifier(at: index) { stack[stack.count - 1].repeats = true }
                continue
            case "(":
                stack.append(Group())
            case ")":
                guard stack.count > 1 else { break }
                let group = stack.removeLast()
                if unboundedQuantifier(at: index + 1) {
                    if group.repeats {
                        throw .invalidRule("repetition inside repetition, like (a+)+, can make matching take forever")
                    }
                    if group.alternates {
                        throw .invalidRule("a repeated alternation, like (a|ab)*, can make matching take forever")
                    }
                    stack[stack.count - 1].repeats = true
                }
                if group.repeats { stack[stack.count - 1].repeats = true }
            case "|":
                stack[stack.count - 1].alternates = true
            default:
                if unboundedQuantifier(at: index + 1) { stack[stack.count - 1].repeats = true }
            }
            index += 1
        }
    }
}

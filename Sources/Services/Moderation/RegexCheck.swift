/// Checks and compiles a `regex` rule's pattern with RE2 (``LinearRegex``).
///
/// RE2 matches in time linear in the message's length whatever the pattern, so no pattern is
/// refused for being slow; what is refused is what RE2 cannot do (backreferences and
/// lookaround, which need backtracking), patterns that do not compile or need more than the
/// regex memory limit, and patterns that match the empty text (they would match every message).
enum RegexCheck {
    /// The compiled pattern; ``ServiceError/invalidRule(_:)`` says why it cannot be used.
    static func compile(_ pattern: String, maxMemory: Int) throws(ServiceError) -> LinearRegex {
        if let feature = unsupportedFeature(in: pattern) {
            throw .invalidRule(
                "\(feature) are not supported: rules are matched by a linear-time engine (RE2) that has no backtracking"
            )
        }
        let regex: LinearRegex
        do {
            regex = try LinearRegex(pattern, maxMemory: maxMemory)
        } catch {
            if error.reason == LinearRegex.tooLarge {
                throw .invalidRule(
                    "the regular expression needs more than the \(maxMemory / 1024) KiB a rule may use to compile")
            }
            throw .invalidRule("the regular expression does not compile: \(error.reason)")
        }
        if regex.matches("") {
            throw .invalidRule("the regular expression matches an empty text, so it would match every message")
        }
        return regex
    }

    /// The name of a backtracking feature `pattern` uses, if any: backreferences (`\1`, `\k<name>`)
    /// or lookaround (`(?=`, `(?!`, `(?<=`, `(?<!`). Escapes and character classes are skipped.
    static func unsupportedFeature(in pattern: String) -> String? {
        let characters = Array(pattern)
        var index = 0
        var inClass = false
        while index < characters.count {
            let character = characters[index]
            let next = index + 1 < characters.count ? characters[index + 1] : nil
            switch character {
            case "\\":
                if !inClass, let next {
                    if next.isASCII && next.isNumber && next != "0" { return "backreferences such as \\1" }
                    if next == "k" || next == "g" { return "backreferences such as \\k<name>" }
                }
                index += 2
                continue
            case "[" where !inClass:
                inClass = true
                // `]` right after `[` or `[^` is a literal.
                if next == "^" { index += 1 }
                if index + 1 < characters.count, characters[index + 1] == "]" { index += 1 }
            case "]" where inClass:
                inClass = false
            case "(" where !inClass && next == "?":
                let rest = String(characters[(index + 2)...].prefix(2))
                if rest.hasPrefix("=") || rest.hasPrefix("!") || rest == "<=" || rest == "<!" {
                    return "lookahead and lookbehind such as (?=…) and (?<!…)"
                }
            default: break
            }
            index += 1
        }
        return nil
    }
}

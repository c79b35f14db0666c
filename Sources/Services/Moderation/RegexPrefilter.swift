import Foundation

/// Picks which regex rules could match a text before any of them runs.
///
/// Most regexes require some plain text: `\b(?:free|cheap)\s+prize\d+` cannot match without
/// `prize`. That literal is taken from each pattern when it is saved; a message is scanned once,
/// three bytes at a time, for every literal together, and only the regexes whose literal is in
/// it are run. Regexes without a literal of three ASCII bytes or more always run.
///
/// Matching is case-insensitive, so the scan lowercases ASCII. A text with a character whose case
/// folding has ASCII letters (`ß` is `ss`, `ſ` is `s`, the Kelvin sign is `k`, `ﬁ` is `fi`) could
/// match a regex whose literal it does not contain byte for byte; such texts are case-folded
/// first and the folded text is scanned.
struct RegexPrefilter: Sendable {
    private struct Literal: Sendable {
        let bytes: [UInt8]
        let regex: Int
    }

    /// Regexes (indices into the caller's list) without a usable literal.
    let always: [Int]
    private let literals: [Literal]
    /// Literals by their first three bytes.
    private let byTrigram: [UInt32: [Int]]
    /// One bit per trigram hash: most positions of a text are ruled out by one test.
    private let bloom: [UInt64]

    init(patterns: [String]) {
        var always: [Int] = []
        var literals: [Literal] = []
        var byTrigram: [UInt32: [Int]] = [:]
        var bloom = [UInt64](repeating: 0, count: 1024)
        for (index, pattern) in patterns.enumerated() {
            guard let literal = Self.requiredLiteral(pattern) else {
                always.append(index)
                continue
            }
            let key = Self.trigram(literal[0], literal[1], literal[2])
            byTrigram[key, default: []].append(literals.count)
            literals.append(Literal(bytes: literal, regex: index))
            let bit = Self.bloomBit(key)
            bloom[bit >> 6] |= 1 << (bit & 63)
        }
        self.always = always
        self.literals = literals
        self.byTrigram = byTrigram
        self.bloom = bloom
    }

    /// The regexes worth running on `text`, in order.
    func candidates(in text: String, count: Int) -> [Int] {
        guard !literals.isEmpty else { return always }
        if let found = scan(text) { return found }
        return scan(text.folding(options: [.caseInsensitive], locale: nil)) ?? Array(0..<count)
    }

    /// The candidates in `text`, or nil when it has a character that folds to ASCII.
    private func scan(_ text: String) -> [Int]? {
        var text = text
        let found: Set<Int>? = text.withUTF8 { bytes in
            var found = Set<Int>()
            guard bytes.count >= 3 else { return found }
            @inline(__always) func lower(_ byte: UInt8) -> UInt8 { byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte }
            for index in 0..<(bytes.count - 2) {
                let first = bytes[index]
                if first >= 0xC3, Self.foldsToASCII(first, bytes[index + 1], bytes[index + 2]) { return nil }
                let key = Self.trigram(lower(first), lower(bytes[index + 1]), lower(bytes[index + 2]))
                let bit = Self.bloomBit(key)
                guard bloom[bit >> 6] & (1 << (bit & 63)) != 0, let list = byTrigram[key] else { continue }
                for literalIndex in list {
                    let literal = literals[literalIndex]
                    guard index + literal.bytes.count <= bytes.count, !found.contains(literal.regex) else { continue }
                    var same = true
                    for offset in 3..<literal.bytes.count where lower(bytes[index + offset]) != literal.bytes[offset] {
                        same = false
                        break
                    }
                    if same { found.insert(literal.regex) }
                }
            }
            return found
        }
        return found.map { (always + $0).sorted() }
    }

    /// Whether the UTF-8 sequence starting with these bytes is a character whose case folding
    /// contains ASCII letters: ß ẞ İ ŉ ſ ǰ ẖ ẗ ẘ ẙ ẚ, the Kelvin sign, and the ﬀ–ﬆ ligatures.
    static func foldsToASCII(_ first: UInt8, _ second: UInt8, _ third: UInt8) -> Bool {
        switch (first, second) {
        case (0xC3, 0x9F), (0xC4, 0xB0), (0xC5, 0x89), (0xC5, 0xBF), (0xC7, 0xB0): true
        case (0xE1, 0xBA): (0x96...0x9A).contains(third) || third == 0x9E
        case (0xE2, 0x84): third == 0xAA
        case (0xEF, 0xAC): (0x80...0x86).contains(third)
        default: false
        }
    }

    private static func trigram(_ a: UInt8, _ b: UInt8, _ c: UInt8) -> UInt32 {
        UInt32(a) << 16 | UInt32(b) << 8 | UInt32(c)
    }

    private static func bloomBit(_ key: UInt32) -> Int {
        Int((key &* 2_654_435_761) >> 16)
    }

    /// The longest run of plain ASCII text (three bytes or more, lowercased) that every match of
    /// `pattern` contains, or nil when there is none or the pattern is too unusual to tell.
    static func requiredLiteral(_ pattern: String) -> [UInt8]? {
        let characters = Array(pattern)
        // Extended mode makes spaces mean nothing; \Q…\E quotes. Leave those alone.
        if pattern.contains("(?x") || pattern.contains("\\Q") { return nil }
        var runs: [[UInt8]] = []
        var run: [UInt8] = []
        func endRun() {
            if run.count >= 3 { runs.append(run) }
            run = []
        }
        var index = 0
        while index < characters.count {
            let character = characters[index]
            var literal: UInt8?
            switch character {
            case "\\":
                guard index + 1 < characters.count else { return nil }
                let escaped = characters[index + 1]
                index += 2
                if escaped.isASCII, !escaped.isLetter, !escaped.isNumber, let byte = escaped.asciiValue {
                    literal = byte
                } else {
                    // \b \s \d \w \p{…} \x… and friends: not plain text.
                    endRun()
                    if escaped == "p" || escaped == "P" || escaped == "x" || escaped == "u" || escaped == "N" {
                        if index < characters.count, characters[index] == "{" {
                            while index < characters.count, characters[index] != "}" { index += 1 }
                            index += 1
                        }
                    }
                    index = skipQuantifier(characters, at: index)
                    continue
                }
            case "(":
                endRun()
                guard let end = closing(characters, from: index) else { return nil }
                index = end + 1
                index = skipQuantifier(characters, at: index)
                continue
            case "[":
                endRun()
                guard let end = classEnd(characters, from: index) else { return nil }
                index = end + 1
                index = skipQuantifier(characters, at: index)
                continue
            case "|": return nil
            case ".", "^", "$", ")":
                endRun()
                index = skipQuantifier(characters, at: index + 1)
                continue
            case "*", "+", "?", "{":
                // A quantifier with nothing before it: not a pattern to guess about.
                return nil
            default:
                guard character.isASCII, let byte = character.asciiValue else {
                    endRun()
                    index += 1
                    index = skipQuantifier(characters, at: index)
                    continue
                }
                literal = byte
                index += 1
            }
            guard let literal else { continue }
            let lower = literal >= 0x41 && literal <= 0x5A ? literal | 0x20 : literal
            // A quantifier after a character: optional (?, *, {0,…}) drops it; + or {n,…} keeps
            // one copy but ends the run.
            if index < characters.count, "?*+{".contains(characters[index]) {
                let optional = characters[index] == "?" || characters[index] == "*" || isZeroMinimum(characters, index)
                if !optional { run.append(lower) }
                endRun()
                index = skipQuantifier(characters, at: index)
                continue
            }
            run.append(lower)
        }
        endRun()
        return runs.max { $0.count < $1.count }
    }

    private static func isZeroMinimum(_ characters: [Character], _ index: Int) -> Bool {
        guard characters[index] == "{" else { return false }
        var digits = ""
        var cursor = index + 1
        while cursor < characters.count, characters[cursor].isNumber {
            digits.append(characters[cursor])
            cursor += 1
        }
        return (Int(digits) ?? 0) == 0
    }

    /// The index after a quantifier (and its lazy or possessive mark) at `index`, or `index`.
    private static func skipQuantifier(_ characters: [Character], at index: Int) -> Int {
        var cursor = index
        guard cursor < characters.count else { return cursor }
        switch characters[cursor] {
        case "?", "*", "+": cursor += 1
        case "{":
            while cursor < characters.count, characters[cursor] != "}" { cursor += 1 }
            cursor += 1
        default: return cursor
        }
        if cursor < characters.count, characters[cursor] == "?" || characters[cursor] == "+" { cursor += 1 }
        return cursor
    }

    /// The index of the `)` that closes the group opened at `start`.
    private static func closing(_ characters: [Character], from start: Int) -> Int? {
        var depth = 0
        var index = start
        while index < characters.count {
            switch characters[index] {
            case "\\": index += 1
            case "[":
                guard let end = classEnd(characters, from: index) else { return nil }
                index = end
            case "(": depth += 1
            case ")":
                depth -= 1
                if depth == 0 { return index }
            default: break
            }
            index += 1
        }
        return nil
    }

    /// The index of the `]` that closes the class opened at `start`.
    private static func classEnd(_ characters: [Character], from start: Int) -> Int? {
        var index = start + 1
        if index < characters.count, characters[index] == "^" { index += 1 }
        if index < characters.count, characters[index] == "]" { index += 1 }
        while index < characters.count {
            switch characters[index] {
            case "\\": index += 1
            case "]": return index
            default: break
            }
            index += 1
        }
        return nil
    }
}

import CRE2

/// A regular expression compiled by RE2 (Debian's `libre2`, through the `CRE2` shim): matching
/// takes time linear in the text's length whatever the pattern, so no rule can make a message
/// slow to check. UTF-8, case-insensitive unless the pattern says `(?-i)`.
///
/// RE2 leaves out what needs backtracking: backreferences and lookaround do not compile.
/// An `RE2` object is safe to match from many threads at once.
final class LinearRegex: @unchecked Sendable {
    // The RE2 object is immutable after compilation and its matching methods are thread-safe.
    private let regex: OpaquePointer

    /// Compiles `pattern` with at most `maxMemory` bytes for its program and DFA cache; throws
    /// RE2's reason when it does not compile.
    init(_ pattern: String, maxMemory: Int) throws(CompileError) {
        var error = [CChar](repeating: 0, count: 256)
        var pattern = pattern
        let compiled = pattern.withUTF8 { bytes in
            bytes.withMemoryRebound(to: CChar.self) { chars in
                hearth_re2_new(chars.baseAddress, chars.count, Int64(maxMemory), &error, error.count)
            }
        }
        guard let compiled else { throw CompileError(reason: cString(error)) }
        regex = compiled
    }

    deinit {
        hearth_re2_free(regex)
    }

    /// The reason the shim gives for a pattern whose program is over the memory limit.
    static let tooLarge = "pattern too large"

    /// Why a pattern did not compile, in RE2's words.
    struct CompileError: Error {
        let reason: String
    }

    /// The byte range of the leftmost match at or after byte `from` of `bytes`, if any.
    func firstMatch(in bytes: UnsafeBufferPointer<UInt8>, from: Int) -> Range<Int>? {
        var start = 0
        var end = 0
        let found = bytes.withMemoryRebound(to: CChar.self) { chars in
            hearth_re2_find(regex, chars.baseAddress, chars.count, from, &start, &end)
        }
        return found == 1 ? start..<end : nil
    }

    /// Whether the pattern matches anywhere in `text`.
    func matches(_ text: String) -> Bool {
        var text = text
        return text.withUTF8 { firstMatch(in: $0, from: 0) != nil }
    }

    /// Every non-overlapping match in `text`, leftmost first. An empty match moves on by one
    /// character, so the scan always ends.
    func ranges(in text: String) -> [Range<String.Index>] {
        var text = text
        let byteRanges: [Range<Int>] = text.withUTF8 { bytes in
            var found: [Range<Int>] = []
            var from = 0
            while from <= bytes.count, let match = firstMatch(in: bytes, from: from) {
                if match.isEmpty {
                    // Step over one whole UTF-8 character: never split one.
                    var next = match.upperBound + 1
                    while next < bytes.count, bytes[next] & 0xC0 == 0x80 { next += 1 }
                    from = next
                } else {
                    found.append(match)
                    from = match.upperBound
                }
            }
            return found
        }
        let utf8 = text.utf8
        return byteRanges.map { range in
            utf8.index(
                utf8.startIndex, offsetBy: range.lowerBound)..<utf8.index(
                    utf8.startIndex, offsetBy: range.upperBound)
        }
    }
}

/// Many patterns compiled into one RE2 set: one pass over a text says which of them match.
final class LinearRegexSet: @unchecked Sendable {
    // Immutable after compilation; RE2::Set::Match is thread-safe.
    private let set: OpaquePointer
    let count: Int

    /// Why a set did not compile: a pattern's own reason, or the memory limit.
    enum CompileError: Error {
        case pattern(index: Int, reason: String)
        case overMemoryLimit
    }

    /// Compiles `patterns` (at least one) with at most `maxMemory` bytes for the set's program and DFA.
    init(_ patterns: [String], maxMemory: Int) throws(CompileError) {
        precondition(!patterns.isEmpty, "an RE2 set needs a pattern")
        var error = [CChar](repeating: 0, count: 256)
        var failed: Int32 = -1
        // Every pattern's bytes in one buffer, and where each starts.
        var bytes: [CChar] = []
        var starts: [Int] = []
        for pattern in patterns {
            starts.append(bytes.count)
            bytes.append(contentsOf: pattern.utf8.map { CChar(bitPattern: $0) })
        }
        let lengths = patterns.map { $0.utf8.count }
        let compiled: OpaquePointer? = bytes.withUnsafeBufferPointer { buffer in
            let pointers: [UnsafePointer<CChar>?] = starts.map { start in buffer.baseAddress.map { $0 + start } }
            return hearth_re2_set_new(
                pointers, lengths, Int32(patterns.count), Int64(maxMemory), &failed, &error, error.count)
        }
        guard let compiled else {
            if failed >= 0 { throw .pattern(index: Int(failed), reason: cString(error)) }
            throw .overMemoryLimit
        }
        set = compiled
        count = patterns.count
    }

    deinit {
        hearth_re2_set_free(set)
    }

    /// The indices of the patterns that match `text`, in increasing order; nil when RE2's DFA ran
    /// out of memory on this text (the caller then runs each pattern alone, still in linear time).
    func matching(_ text: String) -> [Int]? {
        var text = text
        var found = [Int32](repeating: 0, count: count)
        let matched = text.withUTF8 { bytes in
            bytes.withMemoryRebound(to: CChar.self) { chars in
                hearth_re2_set_match(set, chars.baseAddress, chars.count, &found, Int32(found.count))
            }
        }
        guard matched >= 0 else { return nil }
        return found.prefix(Int(matched)).map(Int.init)
    }
}

/// The NUL-terminated text the shim wrote into `buffer`.
private func cString(_ buffer: [CChar]) -> String {
    String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

import Foundation

/// Finds links in message text and the host each one points at, for `link` rules.
///
/// A link is a run of non-space characters that has a scheme (`https://…`, `ftp://…`), starts
/// with `www.`, or is a bare host name ending in a common top-level domain (`example.com/path`).
/// Hosts are normalized (NFKC, case folding, no trailing dot), so `ＥＸＡＭＰＬＥ．com` is
/// `example.com`.
enum LinkScanner {
    /// One link: where it is in the text, and its host.
    struct Link: Equatable {
        let range: Range<String.Index>
        let host: String
    }

    /// Top-level domains that mark a bare `name.tld` as a link; others need a scheme or `www.`.
    static let commonTopLevelDomains: Set<String> = [
        "com", "org", "net", "edu", "gov", "io", "co", "uk", "de", "fr", "nl", "be", "es", "it", "pl", "ru", "cn",
        "jp", "br", "in", "au", "ca", "us", "eu", "ch", "at", "se", "no", "dk", "fi", "ie", "pt", "cz", "info", "biz",
        "me", "tv", "ly", "gg", "xyz", "app", "dev", "site", "online", "shop", "club", "top", "link", "live", "tk",
        "ml", "ga", "cf", "gq", "ws", "cc", "to", "su", "ai", "so",
    ]

    /// The links in `text`, in order.
    static func links(in text: String) -> [Link] {
        var links: [Link] = []
        let scalars = text.unicodeScalars
        var index = scalars.startIndex
        while index < scalars.endIndex {
            guard !isSeparator(scalars[index]) else {
                index = scalars.index(after: index)
                continue
            }
            let start = index
            while index < scalars.endIndex, !isSeparator(scalars[index]) { index = scalars.index(after: index) }
            if let host = host(of: text[start..<index]) { links.append(Link(range: start..<index, host: host)) }
        }
        return links
    }

    /// The host a run of text links to, or nil when it is not a link.
    static func host(of run: Substring) -> String? {
        guard run.contains(".") || run.contains(":") || run.contains("．") || run.contains("。") else { return nil }
        var text = run.allSatisfy(\.isASCII) ? run.lowercased() : WordScanner.fold(String(run))
        text = text.replacingOccurrences(of: "。", with: ".")
        // Trailing punctuation belongs to the sentence, not the link.
        while let last = text.last, ".,;:!?)]}>'\"".contains(last) { text.removeLast() }
        var rest = Substring(text)
        var explicit = false
        if let scheme = rest.range(of: "://") {
            let name = rest[..<scheme.lowerBound]
            guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || "+-.".contains($0) }) else {
                return nil
            }
            rest = rest[scheme.upperBound...]
            explicit = true
        }
        if let end = rest.firstIndex(where: { "/?#".contains($0) }) { rest = rest[..<end] }
        if let at = rest.lastIndex(of: "@") { rest = rest[rest.index(after: at)...] }
        if let colon = rest.lastIndex(of: ":"), rest[rest.index(after: colon)...].allSatisfy(\.isNumber) {
            rest = rest[..<colon]
        }
        while rest.hasSuffix(".") { rest = rest.dropLast() }
        let labels = rest.split(separator: ".", omittingEmptySubsequences: false)
        guard labels.count >= 2,
            labels.allSatisfy({ label in
                !label.isEmpty && label.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" }
            })
        else { return nil }
        let host = String(rest)
        if explicit || host.hasPrefix("www.") { return host }
        guard let tld = labels.last, commonTopLevelDomains.contains(String(tld)) else { return nil }
        return host
    }

    /// Whether `host` is `domain` or one of its subdomains.
    static func host(_ host: String, isIn domain: String) -> Bool {
        host == domain || host.hasSuffix("." + domain)
    }

    private static func isSeparator(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar {
        case " ", "\n", "\r", "\t", "<", ">", "\"", "'", "(", ")", "[", "]", "{", "}", "|": true
        default: !scalar.isASCII && scalar.properties.isWhitespace
        }
    }
}

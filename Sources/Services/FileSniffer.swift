/// Recognises file types by their bytes (never by the name alone), and reads image dimensions from headers.
///
/// Most types are told by their first bytes. Office documents are ZIP archives, so they are told
/// apart by what the archive holds: its central directory, read from the file's last bytes (the
/// local headers at the start when the directory does not fit there), and for OpenDocument the
/// `mimetype` entry the format puts first.
enum FileSniffer {
    /// Types that are ZIP archives inside, confirmed with ``zipKind(head:tail:)`` once the whole file is in.
    static let zipTypes: Set<String> = [
        docx, xlsx, pptx, "application/vnd.oasis.opendocument.text", "application/vnd.oasis.opendocument.spreadsheet",
        "application/vnd.oasis.opendocument.presentation", "application/zip",
    ]
    static let docx = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    static let xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    static let pptx = "application/vnd.openxmlformats-officedocument.presentationml.presentation"

    /// Bytes of a file's end kept to read a ZIP archive's central directory.
    static let tailBytes = 128 * 1024

    /// Brands of the ISO base media format that mean a HEIF still image, not a film or a sound.
    private static let heicBrands: Set<String> = ["heic", "heix", "heim", "heis", "hevc", "hevx", "hevm", "hevs"]
    private static let imageBrands: Set<String> = heicBrands.union(["mif1", "msf1", "avif", "avis"])

    /// Whether `head` (the file's first bytes) looks like `contentType`. For ZIP-based types this
    /// only says it is a ZIP archive; ``zipKind(head:tail:)`` says which.
    static func matches(_ contentType: String, head: [UInt8]) -> Bool {
        let bytes = ByteReader(head)
        switch contentType {
        case "image/jpeg": return bytes.starts([0xFF, 0xD8, 0xFF])
        case "image/png": return bytes.starts([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        case "image/gif": return bytes.starts("GIF87a") || bytes.starts("GIF89a")
        case "image/webp": return bytes.starts("RIFF") && bytes.starts("WEBP", at: 8)
        case "image/heic", "image/heif":
            return bytes.isoBrands.contains { heicBrands.union(["mif1", "msf1"]).contains($0) }
        case "application/pdf": return bytes.starts("%PDF-")
        case "audio/mpeg":
            return bytes.starts("ID3") || (head.count >= 2 && head[0] == 0xFF && head[1] & 0xE0 == 0xE0)
        case "audio/ogg", "video/ogg": return bytes.starts("OggS")
        case "audio/wav", "audio/x-wav": return bytes.starts("RIFF") && bytes.starts("WAVE", at: 8)
        case "audio/webm", "video/webm": return bytes.starts([0x1A, 0x45, 0xDF, 0xA3])
        case "audio/mp4", "video/mp4", "audio/aac", "audio/x-m4a":
            return bytes.starts("ftyp", at: 4) && !imageBrands.contains(bytes.isoBrands.first ?? "")
        case "video/quicktime":
            // QuickTime files may begin with any of their classic atoms instead of `ftyp`.
            let atom = bytes.string(at: 4, count: 4)
            return (atom == "ftyp" && !imageBrands.contains(bytes.isoBrands.first ?? ""))
                || ["moov", "mdat", "wide", "free", "skip", "pnot"].contains(atom)
        case "text/plain", "text/csv": return isText(head)
        case _ where zipTypes.contains(contentType): return bytes.starts([0x50, 0x4B, 0x03, 0x04])
        default: return false
        }
    }

    /// The type of a file sent without one (`application/octet-stream`, as browsers do for a type
    /// they do not know): from its first bytes, and the name only to tell CSV from other text. A ZIP
    /// archive gets `application/zip` here, to be looked into by ``zipKind(head:tail:)`` at the end.
    static func detect(head: [UInt8], filename: String?) -> String? {
        let bytes = ByteReader(head)
        let name = (filename ?? "").lowercased()
        if bytes.starts("ftyp", at: 4) {
            let brands = bytes.isoBrands
            if brands.contains(where: heicBrands.contains) { return "image/heic" }
            if brands.contains(where: imageBrands.contains) { return "image/heif" }
            switch brands.first {
            case "qt  ": return "video/quicktime"
            case "M4A ", "M4B ": return "audio/mp4"
            default: return "video/mp4"
            }
        }
        if bytes.starts([0x4D, 0x5A]) { return "application/x-msdownload" }
        if bytes.starts([0x7F, 0x45, 0x4C, 0x46]) { return "application/x-executable" }
        if bytes.starts([0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) {
            // The old Office formats: one container for all three, so here the name decides.
            if name.hasSuffix(".xls") { return "application/vnd.ms-excel" }
            if name.hasSuffix(".ppt") { return "application/vnd.ms-powerpoint" }
            return "application/msword"
        }
        if matches("video/webm", head: head) {
            // A WebM (Matroska) file names its tracks' codecs near the start: "V_VP8", "A_OPUS"…
            return head.firstRange(of: Array("V_".utf8)) != nil ? "video/webm" : "audio/webm"
        }
        if matches("audio/ogg", head: head) {
            return head.firstRange(of: Array("theora".utf8)) != nil ? "video/ogg" : "audio/ogg"
        }
        let candidates = [
            "image/jpeg", "image/png", "image/gif", "image/webp", "application/pdf", "audio/wav", "video/quicktime",
            "application/zip",
        ]
        if let found = candidates.first(where: { matches($0, head: head) }) { return found }
        if bytes.starts("ID3") || (name.hasSuffix(".mp3") && matches("audio/mpeg", head: head)) { return "audio/mpeg" }
        if isText(head) { return name.hasSuffix(".csv") ? "text/csv" : "text/plain" }
        return nil
    }

    /// What a ZIP archive is, by its entries: a Word, Excel or PowerPoint file (`word/`, `xl/` or
    /// `ppt/` parts beside `[Content_Types].xml`), an OpenDocument (its stored `mimetype` entry),
    /// or otherwise `application/zip`.
    static func zipKind(head: [UInt8], tail: [UInt8]) -> String {
        let names = ZipDirectory.centralNames(tail: tail) ?? ZipDirectory.localNames(head: head)
        if let first = ZipDirectory.firstStoredEntry(head: head), first.name == "mimetype" {
            let type = String(decoding: first.content, as: UTF8.self)
            if type.hasPrefix("application/vnd.oasis.opendocument."), zipTypes.contains(type),
                names.contains("content.xml")
            {
                return type
            }
        }
        if names.contains("[Content_Types].xml") {
            if names.contains(where: { $0.hasPrefix("word/") }) { return docx }
            if names.contains(where: { $0.hasPrefix("xl/") }) { return xlsx }
            if names.contains(where: { $0.hasPrefix("ppt/") }) { return pptx }
        }
        return "application/zip"
    }

    /// Text: valid UTF-8 without NUL bytes (the head may end mid-character), or a single-byte
    /// encoding such as Windows-1252, in which Excel saves CSV — bytes that are not UTF-8 but
    /// hold no control characters besides tab, line breaks and form feed, as no program or
    /// picture manages to.
    private static func isText(_ head: [UInt8]) -> Bool {
        guard !head.contains(0) else { return false }
        var bytes = head
        var dropped = 0
        while dropped < 3, let last = bytes.last, last & 0xC0 == 0x80 || last >= 0xC0 {
            bytes.removeLast()
            dropped += 1
        }
        if String(validating: bytes, as: UTF8.self) != nil { return true }
        return !head.contains { $0 == 0x7F || ($0 < 0x20 && ![0x09, 0x0A, 0x0C, 0x0D].contains($0)) }
    }

    /// Width and height of PNG, GIF, JPEG and WebP images, when the header has them.
    static func dimensions(_ contentType: String, head: [UInt8]) -> (Int, Int)? {
        func be16(_ at: Int) -> Int { Int(head[at]) << 8 | Int(head[at + 1]) }
        func le16(_ at: Int) -> Int { Int(head[at]) | Int(head[at + 1]) << 8 }
        func be32(_ at: Int) -> Int { be16(at) << 16 | be16(at + 2) }
        switch contentType {
        case "image/png" where head.count >= 24: return (be32(16), be32(20))
        case "image/gif" where head.count >= 10: return (le16(6), le16(8))
        case "image/webp" where head.count >= 30:
            let chunk = String(decoding: head[12..<16], as: UTF8.self)
            switch chunk {
            case "VP8 ": return (le16(26) & 0x3FFF, le16(28) & 0x3FFF)
            case "VP8L":
                let bits = Int(head[21]) | Int(head[22]) << 8 | Int(head[23]) << 16 | Int(head[24]) << 24
                return ((bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1)
            case "VP8X":
                let width = Int(head[24]) | Int(head[25]) << 8 | Int(head[26]) << 16
                let height = Int(head[27]) | Int(head[28]) << 8 | Int(head[29]) << 16
                return (width + 1, height + 1)
            default: return nil
            }
        case "image/jpeg":
            var offset = 2
            while offset + 9 < head.count, head[offset] == 0xFF {
                let marker = head[offset + 1]
                if (0xC0...0xCF).contains(marker), marker != 0xC4, marker != 0xC8, marker != 0xCC {
                    return (be16(offset + 7), be16(offset + 5))
                }
                offset += 2 + be16(offset + 2)
            }
            return nil
        default: return nil
        }
    }
}

/// Reading little pieces of a byte array without going past its end.
struct ByteReader {
    let bytes: [UInt8]

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    func starts(_ prefix: [UInt8], at offset: Int = 0) -> Bool {
        offset >= 0 && bytes.count >= offset + prefix.count
            && bytes[offset..<(offset + prefix.count)].elementsEqual(prefix)
    }

    func starts(_ text: String, at offset: Int = 0) -> Bool { starts(Array(text.utf8), at: offset) }

    func string(at offset: Int, count: Int) -> String? {
        guard offset >= 0, bytes.count >= offset + count else { return nil }
        return String(decoding: bytes[offset..<(offset + count)], as: UTF8.self)
    }

    func le16(_ at: Int) -> Int? { bytes.count >= at + 2 ? Int(bytes[at]) | Int(bytes[at + 1]) << 8 : nil }

    func le32(_ at: Int) -> Int? {
        guard let low = le16(at), let high = le16(at + 2) else { return nil }
        return low | high << 16
    }

    func be32(_ at: Int) -> Int? {
        guard bytes.count >= at + 4 else { return nil }
        return bytes[at..<(at + 4)].reduce(0) { $0 << 8 | Int($1) }
    }

    /// The brands of an ISO base media file's leading `ftyp` box: the major brand first, then the
    /// compatible ones.
    var isoBrands: [String] {
        guard starts("ftyp", at: 4), let size = be32(0), size >= 16 else { return [] }
        var brands = [string(at: 8, count: 4)].compactMap { $0 }
        var offset = 16
        while offset + 4 <= min(size, bytes.count, 256) {
            if let brand = string(at: offset, count: 4) { brands.append(brand) }
            offset += 4
        }
        return brands
    }
}

/// The entry names of a ZIP archive (APPNOTE.TXT, sections 4.3.7, 4.3.12 and 4.3.16), enough to
/// tell what the archive is; nothing is decompressed.
enum ZipDirectory {
    /// Names from the central directory, if the end-of-central-directory record and the whole
    /// directory are in `tail` (the file's last bytes); nil otherwise (ZIP64 included).
    static func centralNames(tail: [UInt8]) -> [String]? {
        let bytes = ByteReader(tail)
        let signature: [UInt8] = [0x50, 0x4B, 0x05, 0x06]
        var end = tail.count - 22
        let lowest = max(0, tail.count - 22 - 65535)
        while end >= lowest, !bytes.starts(signature, at: end) { end -= 1 }
        guard end >= lowest, let entries = bytes.le16(end + 10), let size = bytes.le32(end + 12),
            size != 0xFFFF_FFFF, end - size >= 0
        else { return nil }
        var offset = end - size
        var names: [String] = []
        for _ in 0..<entries {
            guard bytes.starts([0x50, 0x4B, 0x01, 0x02], at: offset), let nameLength = bytes.le16(offset + 28),
                let extra = bytes.le16(offset + 30), let comment = bytes.le16(offset + 32),
                let name = bytes.string(at: offset + 46, count: nameLength)
            else { return nil }
            names.append(name)
            offset += 46 + nameLength + extra + comment
        }
        return names
    }

    /// Names from the local file headers at the start of the archive, as far as `head` goes and
    /// the headers give their sizes (an entry streamed with a data descriptor ends the walk).
    static func localNames(head: [UInt8]) -> [String] {
        let bytes = ByteReader(head)
        var offset = 0
        var names: [String] = []
        while bytes.starts([0x50, 0x4B, 0x03, 0x04], at: offset), let flags = bytes.le16(offset + 6),
            let compressed = bytes.le32(offset + 18), let nameLength = bytes.le16(offset + 26),
            let extra = bytes.le16(offset + 28), let name = bytes.string(at: offset + 30, count: nameLength)
        {
            names.append(name)
            if flags & 0x08 != 0 && compressed == 0 { break }
            offset += 30 + nameLength + extra + compressed
        }
        return names
    }

    /// The first entry, if it is stored uncompressed and whole in `head`: its name and bytes.
    static func firstStoredEntry(head: [UInt8]) -> (name: String, content: ArraySlice<UInt8>)? {
        let bytes = ByteReader(head)
        guard bytes.starts([0x50, 0x4B, 0x03, 0x04]), bytes.le16(8) == 0, let size = bytes.le32(18),
            let nameLength = bytes.le16(26), let extra = bytes.le16(28),
            let name = bytes.string(at: 30, count: nameLength), size <= 256,
            head.count >= 30 + nameLength + extra + size
        else { return nil }
        let start = 30 + nameLength + extra
        return (name, head[start..<(start + size)])
    }
}

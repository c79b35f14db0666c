/// Recognises file types by their first bytes, and reads image dimensions from headers.
enum FileSniffer {
    /// Whether `head` (the file's first bytes) looks like `contentType`.
    static func matches(_ contentType: String, head: [UInt8]) -> Bool {
        func starts(_ bytes: [UInt8], at offset: Int = 0) -> Bool {
            head.count >= offset + bytes.count && Array(head[offset..<(offset + bytes.count)]) == bytes
        }
        let ascii = { (text: String) in Array(text.utf8) }
        switch contentType {
        case "image/jpeg": return starts([0xFF, 0xD8, 0xFF])
        case "image/png": return starts([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        case "image/gif": return starts(ascii("GIF87a")) || starts(ascii("GIF89a"))
        case "image/webp": return starts(ascii("RIFF")) && starts(ascii("WEBP"), at: 8)
        case "application/pdf": return starts(ascii("%PDF-"))
        case "audio/mpeg":
            return starts(ascii("ID3")) || (head.count >= 2 && head[0] == 0xFF && head[1] & 0xE0 == 0xE0)
        case "audio/ogg", "video/ogg": return starts(ascii("OggS"))
        case "audio/wav", "audio/x-wav": return starts(ascii("RIFF")) && starts(ascii("WAVE"), at: 8)
        case "audio/webm", "video/webm": return starts([0x1A, 0x45, 0xDF, 0xA3])
        case "audio/mp4", "video/mp4", "video/quicktime", "audio/aac", "audio/x-m4a":
            return starts(ascii("ftyp"), at: 4)
        case "text/plain":
            // Text: valid UTF-8 without NUL bytes (the head may end mid-character).
            guard !head.contains(0) else { return false }
            var bytes = head
            while let last = bytes.last, last & 0xC0 == 0x80 || last >= 0xC0 { bytes.removeLast() }
            return String(validating: bytes, as: UTF8.self) != nil
        default: return false
        }
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

import Foundation

/// How the server words things for people who are not engineers: a wait, a kind of file.
public enum Words {
    /// "in 1 second", "in 40 seconds", "in 3 minutes", "in 2 hours".
    static func wait(seconds: Int) -> String {
        func unit(_ count: Int, _ name: String) -> String { "in \(count) \(name)\(count == 1 ? "" : "s")" }
        switch seconds {
        case ..<90: return unit(max(1, seconds), "second")
        case ..<(90 * 60): return unit((seconds + 59) / 60, "minute")
        default: return unit((seconds + 3599) / 3600, "hour")
        }
    }

    /// "hour", "6 hours", "30 minutes": how often, after "every".
    static func every(seconds: Int) -> String {
        if seconds % 3600 == 0 { return seconds == 3600 ? "hour" : "\(seconds / 3600) hours" }
        return "\(max(1, seconds / 60)) minutes"
    }

    /// A file's type as people call it ("a Word document", "a PNG image"), never a MIME type.
    public static func kind(of contentType: String) -> String { name(of: contentType).one }

    /// The same in the plural, capitalised to start a sentence ("Word documents", "Windows programs").
    public static func kinds(of contentType: String) -> String {
        let many = name(of: contentType).many
        return many.prefix(1).uppercased() + many.dropFirst()
    }

    private static func name(of contentType: String) -> (one: String, many: String) {
        let type = contentType.lowercased().split(separator: ";").first.map(String.init) ?? contentType
        if let known = kinds[type] { return known }
        let parts = type.split(separator: "/")
        let general = parts.first.map(String.init) ?? ""
        let subtype = parts.count > 1 ? String(parts[1]).uppercased() : "unknown"
        switch general {
        case "image": return ("an image (\(subtype))", "images of this kind (\(subtype))")
        case "audio": return ("a sound file (\(subtype))", "sound files of this kind (\(subtype))")
        case "video": return ("a video (\(subtype))", "videos of this kind (\(subtype))")
        case "text": return ("a text file (\(subtype))", "text files of this kind (\(subtype))")
        default: return ("a file of a kind this server does not know (\(subtype))", "files of this kind (\(subtype))")
        }
    }

    private static let kinds: [String: (one: String, many: String)] = [
        "image/jpeg": ("a JPEG photo", "JPEG photos"), "image/png": ("a PNG image", "PNG images"),
        "image/gif": ("a GIF", "GIFs"), "image/webp": ("a WebP image", "WebP images"),
        "image/heic": ("an iPhone photo (HEIC)", "iPhone photos (HEIC)"),
        "image/heif": ("an iPhone photo (HEIF)", "iPhone photos (HEIF)"),
        "image/svg+xml": ("an SVG drawing", "SVG drawings"), "image/bmp": ("a BMP image", "BMP images"),
        "image/tiff": ("a TIFF image", "TIFF images"),
        "audio/mpeg": ("an MP3 sound file", "MP3 sound files"), "audio/ogg": ("an Ogg sound file", "Ogg sound files"),
        "audio/mp4": ("an M4A sound file", "M4A sound files"), "audio/aac": ("an AAC sound file", "AAC sound files"),
        "audio/x-m4a": ("an M4A sound file", "M4A sound files"),
        "audio/webm": ("a WebM sound file", "WebM sound files"), "audio/wav": ("a WAV sound file", "WAV sound files"),
        "video/mp4": ("an MP4 video", "MP4 videos"), "video/webm": ("a WebM video", "WebM videos"),
        "video/ogg": ("an Ogg video", "Ogg videos"), "video/quicktime": ("a QuickTime video", "QuickTime videos"),
        "video/x-msvideo": ("an AVI video", "AVI videos"),
        "application/pdf": ("a PDF", "PDFs"), "text/plain": ("a text file", "text files"),
        "text/csv": ("a CSV table", "CSV tables"), "text/html": ("a web page", "web pages"),
        "application/msword": ("an old-style Word document (.doc)", "old-style Word documents (.doc)"),
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document": (
            "a Word document", "Word documents"
        ),
        "application/vnd.ms-excel": ("an old-style Excel spreadsheet (.xls)", "old-style Excel spreadsheets (.xls)"),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet":
            ("an Excel spreadsheet", "Excel spreadsheets"),
        "application/vnd.ms-powerpoint":
            ("an old-style PowerPoint presentation (.ppt)", "old-style PowerPoint presentations (.ppt)"),
        "application/vnd.openxmlformats-officedocument.presentationml.presentation":
            ("a PowerPoint presentation", "PowerPoint presentations"),
        "application/vnd.oasis.opendocument.text": ("an OpenDocument text", "OpenDocument texts"),
        "application/vnd.oasis.opendocument.spreadsheet": ("an OpenDocument spreadsheet", "OpenDocument spreadsheets"),
        "application/vnd.oasis.opendocument.presentation":
            ("an OpenDocument presentation", "OpenDocument presentations"),
        "application/zip": ("a ZIP archive", "ZIP archives"),
        "application/x-7z-compressed": ("a 7-Zip archive", "7-Zip archives"),
        "application/x-rar-compressed": ("a RAR archive", "RAR archives"),
        "application/gzip": ("a gzip archive", "gzip archives"), "application/json": ("a JSON file", "JSON files"),
        "application/octet-stream": ("a file of an unknown kind", "files of an unknown kind"),
        "application/x-msdownload": ("a Windows program", "Windows programs"),
        "application/x-executable": ("a program", "programs"),
        "application/vnd.android.package-archive": ("an Android app", "Android apps"),
    ]
}

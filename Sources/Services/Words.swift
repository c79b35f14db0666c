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
    public static func kind(of contentType: String) -> String {
        let type = contentType.lowercased().split(separator: ";").first.map(String.init) ?? contentType
        if let known = kinds[type] { return known }
        let parts = type.split(separator: "/")
        let general = parts.first.map(String.init) ?? ""
        let subtype = parts.count > 1 ? String(parts[1]).uppercased() : "unknown"
        switch general {
        case "image": return "an image (\(subtype))"
        case "audio": return "a sound file (\(subtype))"
        case "video": return "a video (\(subtype))"
        case "text": return "a text file (\(subtype))"
        default: return "a file of a kind this server does not know (\(subtype))"
        }
    }

    private static let kinds: [String: String] = [
        "image/jpeg": "a JPEG photo", "image/png": "a PNG image", "image/gif": "a GIF", "image/webp": "a WebP image",
        "image/heic": "an iPhone photo (HEIC)", "image/heif": "an iPhone photo (HEIF)",
        "image/svg+xml": "an SVG drawing",
        "image/bmp": "a BMP image", "image/tiff": "a TIFF image",
        "audio/mpeg": "an MP3 sound file", "audio/ogg": "an Ogg sound file", "audio/mp4": "an M4A sound file",
        "audio/aac": "an AAC sound file", "audio/x-m4a": "an M4A sound file", "audio/webm": "a WebM sound file",
        "audio/wav": "a WAV sound file",
        "video/mp4": "an MP4 video", "video/webm": "a WebM video", "video/ogg": "an Ogg video",
        "video/quicktime": "a QuickTime video", "video/x-msvideo": "an AVI video",
        "application/pdf": "a PDF", "text/plain": "a text file", "text/html": "a web page",
        "application/msword": "a Word document",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "a Word document",
        "application/vnd.ms-excel": "an Excel spreadsheet",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "an Excel spreadsheet",
        "application/vnd.ms-powerpoint": "a PowerPoint presentation",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation": "a PowerPoint presentation",
        "application/vnd.oasis.opendocument.text": "an OpenDocument text",
        "application/vnd.oasis.opendocument.spreadsheet": "an OpenDocument spreadsheet",
        "application/zip": "a ZIP archive", "application/x-7z-compressed": "a 7-Zip archive",
        "application/x-rar-compressed": "a RAR archive", "application/gzip": "a gzip archive",
        "application/json": "a JSON file", "application/octet-stream": "a file of an unknown kind",
        "application/x-msdownload": "a Windows program", "application/x-executable": "a program",
        "application/vnd.android.package-archive": "an Android app",
    ]
}

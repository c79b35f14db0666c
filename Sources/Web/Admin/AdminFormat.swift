import Foundation

/// How the admin panel writes times, sizes and durations.
enum AdminFormat {
    /// `2026-11-29 18:53` in the server's time zone.
    static func date(_ milliseconds: Int64) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = "yyyy-MM-dd HH:mm"
        return formatter.string(from: Date(timeIntervalSince1970: Double(milliseconds) / 1000))
    }

    /// `512 B`, `3.4 KiB`, `12.0 MiB`, `1.2 GiB`.
    static func bytes(_ count: Int64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(count)
        var unit = 0
        while value >= 1024, unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        return unit == 0 ? "\(count) B" : String(format: "%.1f %@", value, units[unit])
    }

    /// `45 s`, `12 min`, `3 h 5 min`, `2 days 4 h`.
    static func duration(_ seconds: TimeInterval) -> String {
        let total = Int(max(0, seconds))
        switch total {
        case ..<60: return "\(total) s"
        case ..<3600: return "\(total / 60) min"
        case ..<86_400: return "\(total / 3600) h \(total % 3600 / 60) min"
        default: return "\(total / 86_400) day\(total / 86_400 == 1 ? "" : "s") \(total % 86_400 / 3600) h"
        }
    }
}

import Foundation

/// How the admin panel writes times, sizes and durations.
enum AdminFormat {
    /// `2026-11-29 18:53` in the server's time zone. (A `DateFormatter` per call cost more than
    /// the rest of a 50-row page.)
    static func date(_ milliseconds: Int64) -> String {
        var seconds = time_t(milliseconds / 1000)
        var parts = tm()
        guard localtime_r(&seconds, &parts) != nil else { return "?" }
        return String(
            format: "%04d-%02d-%02d %02d:%02d", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1, Int(parts.tm_mday),
            Int(parts.tm_hour), Int(parts.tm_min))
    }

    /// The time zone the panel's times are in: the server's (its `TZ`, else the system's).
    static let zone = TimeZone.current.identifier

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
        case ..<86_400: return "\(total / 3600) h" + (total % 3600 / 60 == 0 ? "" : " \(total % 3600 / 60) min")
        default:
            let days = "\(total / 86_400) day\(total / 86_400 == 1 ? "" : "s")"
            return days + (total % 86_400 / 3600 == 0 ? "" : " \(total % 86_400 / 3600) h")
        }
    }
}

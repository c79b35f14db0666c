import Credentials
import Foundation

/// Terminal output: tables, dates and QR codes.
enum Format {
    /// Left-aligned columns separated by two spaces.
    static func table(header: [String], rows: [[String]]) -> String {
        let all = [header] + rows
        let widths = header.indices.map { column in all.map { $0[column].count }.max() ?? 0 }
        return all.map { row in
            row.enumerated().map { column, cell in
                column == row.count - 1 ? cell : cell.padding(toLength: widths[column], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }.joined(separator: "\n") + "\n"
    }

    /// A millisecond timestamp as `2026-11-29 16:20 UTC`; `never` for nil.
    static func date(_ milliseconds: Int64?) -> String {
        guard let milliseconds else { return "never" }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd HH:mm 'UTC'"
        return formatter.string(from: Date(timeIntervalSince1970: Double(milliseconds) / 1000))
    }

    /// A QR code of `text` for the terminal, with forced colors when stdout is a terminal.
    static func qr(_ text: String) throws -> String {
        try QRCode(text).terminalText(ansiColors: isatty(STDOUT_FILENO) == 1)
    }
}

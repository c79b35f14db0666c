import Foundation
import Testing

@testable import hearth

/// The settings table: docs/ADMIN.md lists exactly what `hearth` reads, and values resolve by
/// flag, then variable, then default.
@Suite struct SettingsTests {
    /// The `(variable, flag)` rows of docs/ADMIN.md's *Every setting*.
    static func documented() throws -> [String: String?] {
        let admin = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appending(path: "../../docs/ADMIN.md").standardizedFileURL
        let text = try String(contentsOf: admin, encoding: .utf8)
        let section =
            try #require(text.components(separatedBy: "## Every setting\n").dropFirst().first)
            .components(separatedBy: "\n## ").first ?? ""
        var rows: [String: String?] = [:]
        for line in section.split(separator: "\n") where line.hasPrefix("| `HEARTH_") {
            let cells = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            let variable = cells[0].trimmingCharacters(in: CharacterSet(charactersIn: "`"))
            let flag = cells[1] == "—" ? nil : cells[1].trimmingCharacters(in: CharacterSet(charactersIn: "`"))
            #expect(rows[variable] == nil, "\(variable) is listed twice")
            rows[variable] = flag
        }
        return rows
    }

    @Test func theDocumentedTableIsTheProgramsTable() throws {
        let documented = try Self.documented()
        let program = Dictionary(uniqueKeysWithValues: Settings.all.map { ($0.variable, $0.flag) })
        #expect(program.count == Settings.all.count, "a variable is in the table twice")
        #expect(Set(documented.keys) == Set(program.keys))
        for (variable, flag) in program { #expect(documented[variable] == flag, "\(variable)") }
    }

    @Test func aFlagWinsOverItsVariableAndBadValuesAreNamed() throws {
        let environment = ["HEARTH_PORT": "9000", "HEARTH_MAX_RULES": "7", "HEARTH_HOST": ""]
        let resolved = try Settings.resolve(flags: ["--port": "0"], environment: environment, serving: true)
        #expect(resolved.server.port == 0 && resolved.server.host == "0.0.0.0")
        #expect(resolved.hearth.moderation.maxRules == 7)
        // Only `serve` reads the network settings.
        let other = try Settings.resolve(flags: [:], environment: ["HEARTH_PORT": "x"], serving: false)
        #expect(other.server.port == 8080)
        // The commit interval may be 0 (commit as soon as the last commit is done).
        let unbatched = try Settings.resolve(flags: [:], environment: ["HEARTH_COMMIT_INTERVAL_MS": "0"], serving: true)
        #expect(unbatched.hearth.relay.commitIntervalMilliseconds == 0)

        for (flags, environment, message) in [
            ([:], ["HEARTH_MAX_RULES": "seven"], "$HEARTH_MAX_RULES must be a number, not 'seven'."),
            ([:], ["HEARTH_SESSION_IDLE_DAYS": "0"], "$HEARTH_SESSION_IDLE_DAYS must be at least 1."),
            (["--port": "70000"], [:], "--port must be 0–65535."),
            ([:], ["HEARTH_COMMIT_INTERVAL_MS": "5000"], "$HEARTH_COMMIT_INTERVAL_MS must be 0–1000."),
            ([:], ["HEARTH_COMMIT_INTERVAL_MS": "-1"], "$HEARTH_COMMIT_INTERVAL_MS must be at least 0."),
            (["--tls-cert": "cert.pem"], [:], "--tls-cert needs --tls-key: the certificate's private key."),
        ] as [([String: String], [String: String], String)] {
            #expect {
                try Settings.resolve(flags: flags, environment: environment, serving: true)
            } throws: { error in
                (error as? CLIError)?.description == message
            }
        }
    }
}

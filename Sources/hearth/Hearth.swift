import ArgumentParser
import Foundation

/// `hearth`: the server and its administration commands.
@main
struct Hearth: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hearth",
        abstract: "A self-hosted messaging server for a family or a small team: one binary, one SQLite file.",
        discussion: """
            Every command takes --data DIR (else $HEARTH_DATA, else ./hearth-data) and works while \
            `hearth serve` runs on the same data dir.
            """,
        subcommands: [
            Serve.self, UserCommand.self, InviteCommand.self, RegistrationCommand.self, BackupCommand.self,
            RestoreCommand.self, BackupScheduleCommand.self, KeygenCommand.self, DecryptCommand.self, PushCommand.self,
            BotCommand.self,
        ]
    )

    static func main() async {
        // Everything Hearth creates (the data dir, the database, its WAL) is for its owner only.
        umask(0o077)
        do {
            var command = try parseAsRoot()
            if var command = command as? AsyncParsableCommand {
                try await command.run()
            } else {
                try command.run()
            }
        } catch {
            exit(withError: error)
        }
    }
}

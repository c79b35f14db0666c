import ArgumentParser
import Foundation
import Services
import Storage

/// `hearth bot …`: accounts for programs, which sign in with a token instead of a password.
struct BotCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bot", abstract: "Manage bot accounts (programs that use the API and the WebSocket).",
        discussion: """
            A bot is an account for a program: it uses the same HTTP API and WebSocket as a person, \
            with `Authorization: Bearer TOKEN`, and sees only the rooms it is added to (add it by its \
            username, like anyone). Its token works until it is replaced or the bot is disabled; \
            `hearth user disable|delete NAME` works on bots too.
            """,
        subcommands: [Add.self, Token.self, List.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a bot and print its token (once).")
        @OptionGroup var options: GlobalOptions
        @Argument(help: "The bot's username: 3–32 characters of a-z, 0-9, '.', '_' and '-'.") var name: String
        @Option(help: "The name it is shown as (default: its username).") var displayName: String?

        func run() async throws {
            let services = try options.services()
            let created = try await command {
                try await services.accounts.createBot(username: name, displayName: displayName)
            }
            print(
                """
                Created bot \(created.user.username). Its token (shown only now; keep it secret):
                \(created.token)
                Add it to a group by its username, then connect to /api/v1/ws with \
                `Authorization: Bearer <token>` (docs/PROTOCOL.md).
                """)
        }
    }

    struct Token: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Give a bot a new token; the old one stops working at once.")
        @OptionGroup var options: GlobalOptions
        @Argument(help: "The bot's username.") var name: String

        func run() async throws {
            let services = try options.services()
            let renewed = try await command { try await services.accounts.newBotToken(username: name) }
            print("New token for \(renewed.user.username) (shown only now):\n\(renewed.token)")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List bot accounts.")
        @OptionGroup var options: GlobalOptions

        func run() async throws {
            let services = try options.services()
            let bots = try await command { try await services.accounts.users() }.filter(\.bot)
            if bots.isEmpty {
                print("No bots yet: `hearth bot add NAME` makes one.")
                return
            }
            let rows = bots.map { bot in
                [bot.username, bot.displayName ?? "", bot.disabled ? "disabled" : "active", Format.date(bot.createdAt)]
            }
            print(Format.table(header: ["USERNAME", "SHOWN AS", "STATUS", "CREATED"], rows: rows), terminator: "")
        }
    }
}

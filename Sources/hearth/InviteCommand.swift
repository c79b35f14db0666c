import ArgumentParser
import Credentials
import Foundation
import Services
import Storage

/// `hearth invite …`: manage invites.
struct InviteCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "invite", abstract: "Manage invites.", subcommands: [Create.self, List.self, Revoke.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create an invite and print its URL and a QR code of it.",
            discussion: "The URL uses --public-url, else the address the last `hearth serve` was reached at.")

        @OptionGroup var options: GlobalOptions
        @Option(help: "How many people may register with it.") var uses = 1
        @Option(help: "How long it is valid: a number and m, h, d or w (30m, 12h, 7d, 2w).") var expires = "7d"
        @Flag(help: "Whoever registers with it becomes an admin.") var admin = false
        @Option(help: "The URL people reach the server at (default: $HEARTH_PUBLIC_URL, else the last serve's).")
        var publicURL: String?

        func run() async throws {
            guard let lifetime = Invites.parseLifetime(expires) else {
                throw CLIError("--expires takes a number and m, h, d or w, such as 7d; '\(expires)' is not one.")
            }
            let services = try options.services { configuration in
                configuration.publicURL = publicURL ?? ProcessInfo.processInfo.environment["HEARTH_PUBLIC_URL"]
            }
            let invite = try await command {
                try await services.invites.create(uses: uses, lifetime: lifetime, admin: admin)
            }
            let url = await services.inviteURL(invite)
            print(url)
            print(try Format.qr(url), terminator: "")
            let who = invite.maxUses == 1 ? "1 person" : "\(invite.maxUses) people"
            print("Lets \(who) register\(admin ? " as admin" : "") until \(Format.date(invite.expiresAt)).")
            print("Invite code: \(invite.code)")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List invites.")
        @OptionGroup var options: GlobalOptions

        func run() async throws {
            let services = try options.services()
            let invites = try await command { try await services.invites.list() }
            if invites.isEmpty {
                print("No invites yet. Create one with `hearth invite create`.")
                return
            }
            let rows = invites.map { invite in
                [
                    invite.code, "\(invite.uses)/\(invite.maxUses)", Format.date(invite.expiresAt),
                    services.invites.status(of: invite).rawValue, invite.admin ? "yes" : "no",
                ]
            }
            print(Format.table(header: ["CODE", "USED", "EXPIRES", "STATUS", "ADMIN"], rows: rows), terminator: "")
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke an invite so nobody can use it any more.")
        @OptionGroup var options: GlobalOptions
        @Argument(help: "The invite code (as `hearth invite list` shows it).") var code: String

        func run() async throws {
            let services = try options.services()
            try await command { try await services.invites.revoke(code: code) }
            print("Revoked invite \(code.lowercased()).")
        }
    }
}

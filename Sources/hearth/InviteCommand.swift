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
            let created = try await command {
                try await services.invites.create(uses: uses, lifetime: lifetime, admin: admin)
            }
            let invite = created.invite
            let url = await services.inviteURL(created)
            print(url)
            print(try Format.qr(url), terminator: "")
            let who = invite.maxUses == 1 ? "1 person" : "\(invite.maxUses) people"
            print("Lets \(who) register\(admin ? " as admin" : "") until \(Format.date(invite.expiresAt)).")
            print("Invite code: \(created.code)")
            print("This is the only time the code is shown: Hearth keeps only its hash. Revoke it by id: \(invite.id).")
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
                    String(invite.id), Format.date(invite.createdAt), "\(invite.uses)/\(invite.maxUses)",
                    Format.date(invite.expiresAt), services.invites.status(of: invite).rawValue,
                    invite.admin ? "yes" : "no",
                ]
            }
            print(
                Format.table(header: ["ID", "CREATED", "USED", "EXPIRES", "STATUS", "ADMIN"], rows: rows),
                terminator: "")
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke an invite so nobody can use it any more.")
        @OptionGroup var options: GlobalOptions
        @Argument(help: "The invite's id (as `hearth invite list` shows it), or its code or link.") var invite: String

        func run() async throws {
            let services = try options.services()
            // A link ends in its code; ids are short numbers, codes 26 letters and digits.
            let reference = String(invite.split(separator: "/").last ?? "")
            if let id = Int64(reference), reference.count < 26 {
                try await command { try await services.invites.revoke(id: id) }
                print("Revoked invite \(id).")
            } else {
                try await command { try await services.invites.revoke(code: reference) }
                print("Revoked the invite with that code.")
            }
        }
    }
}

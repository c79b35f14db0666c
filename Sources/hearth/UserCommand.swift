import ArgumentParser
import Foundation
import Services
import Storage

/// `hearth user …`: manage accounts.
struct UserCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "user", abstract: "Manage accounts.",
        subcommands: [
            Add.self, List.self, Disable.self, Enable.self, Role.self, Delete.self, ResetPassword.self, Link.self,
        ])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create an account (whatever the registration mode).",
            discussion: "The password comes from --password-file (- for stdin), else you are asked for it.")

        @OptionGroup var options: GlobalOptions
        @Argument(help: "The username: 3–32 characters of a-z, 0-9, '.', '_' and '-'.") var name: String
        @Flag(help: "Make the account an admin.") var admin = false
        @Option(help: "Read the password from the first line of this file (- for stdin).") var passwordFile: String?

        func run() async throws {
            let services = try options.services()
            let password = try PasswordInput.read(file: passwordFile, prompt: "Password for \(name)")
            let user = try await command {
                try await services.accounts.createUser(
                    username: name, password: password, role: admin ? .admin : .member)
            }
            print("Created \(user.role == .admin ? "admin" : "user") \(user.username).")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List accounts.")
        @OptionGroup var options: GlobalOptions

        func run() async throws {
            let services = try options.services()
            let users = try await command { try await services.accounts.users() }
            if users.isEmpty {
                print(
                    "No accounts yet. Start `hearth serve` for the setup link, or run `hearth user add NAME --admin`.")
                return
            }
            let rows = users.map { user in
                [user.username, user.role.rawValue, user.disabled ? "disabled" : "active", Format.date(user.createdAt)]
            }
            print(Format.table(header: ["USERNAME", "ROLE", "STATUS", "CREATED"], rows: rows), terminator: "")
        }
    }

    struct Disable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Disable an account and end all its sessions at once.")
        @OptionGroup var options: GlobalOptions
        @Argument(help: "The username.") var name: String

        func run() async throws {
            let services = try options.services()
            let ended = try await command { try await services.accounts.disable(username: name) }
            ServerPIDFile.notifySessionsEnded(services.configuration.dataDirectory)
            print("Disabled \(name.lowercased()); ended \(ended) session\(ended == 1 ? "" : "s").")
        }
    }

    struct Enable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Enable a disabled account.")
        @OptionGroup var options: GlobalOptions
        @Argument(help: "The username.") var name: String

        func run() async throws {
            let services = try options.services()
            try await command { try await services.accounts.enable(username: name) }
            print("Enabled \(name.lowercased()).")
        }
    }

    struct Role: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Give an account another role: member, moderator (works the review queue) or admin.")
        @OptionGroup var options: GlobalOptions
        @Argument(help: "The username.") var name: String
        @Argument(help: "member, moderator or admin.") var role: String

        func run() async throws {
            let services = try options.services()
            guard let newRole = User.Role(rawValue: role.lowercased()) else {
                throw CLIError("unknown role '\(role)': use member, moderator or admin")
            }
            try await command { try await services.accounts.setRole(username: name, to: newRole) }
            print("\(name.lowercased()) is now \(newRole == .admin ? "an" : "a") \(newRole.rawValue).")
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete an account and its devices.")
        @OptionGroup var options: GlobalOptions
        @Argument(help: "The username.") var name: String

        func run() async throws {
            let services = try options.services()
            try await command { try await services.accounts.delete(username: name) }
            ServerPIDFile.notifySessionsEnded(services.configuration.dataDirectory)
            print("Deleted \(name.lowercased()).")
        }
    }

    struct ResetPassword: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "reset-password", abstract: "Set a new password and end all of the account's sessions.")
        @OptionGroup var options: GlobalOptions
        @Argument(help: "The username.") var name: String
        @Option(help: "Read the password from the first line of this file (- for stdin).") var passwordFile: String?

        func run() async throws {
            let services = try options.services()
            _ = try await command { try await services.accounts.user(named: name) }
            let password = try PasswordInput.read(file: passwordFile, prompt: "New password for \(name)")
            try await command { try await services.accounts.resetPassword(username: name, password: password) }
            ServerPIDFile.notifySessionsEnded(services.configuration.dataDirectory)
            print("Password of \(name.lowercased()) reset; all of its sessions ended.")
        }
    }

    struct Link: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print a one-time sign-in link (and its QR code) for a user who lost every device.",
            discussion: """
                Opening the link signs a new device in as the user without a password. It works once, for \
                15 minutes, and its creation and use are written to the audit log.
                """)
        @OptionGroup var options: GlobalOptions
        @Argument(help: "The username.") var name: String
        @Option(help: "The URL people reach the server at (default: $HEARTH_PUBLIC_URL, else the last serve's).")
        var publicURL: String?

        func run() async throws {
            let services = try options.services { configuration in
                configuration.publicURL = publicURL ?? ProcessInfo.processInfo.environment["HEARTH_PUBLIC_URL"]
            }
            let code = try await command { try await services.linking.createRecovery(username: name, by: .cli) }
            print(code.url)
            print(try Format.qr(code.url), terminator: "")
            print("Signs one device in as \(name.lowercased()) until \(Format.date(code.expiresAt)); works once.")
        }
    }
}

import ArgumentParser
import Services

/// `hearth push …`: the server's Web Push key.
struct PushCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "push",
        abstract: "Web Push: show or replace the server's VAPID key.",
        subcommands: [PushKeyCommand.self, PushRotateKeysCommand.self])
}

/// `hearth push key`: print the public key browsers subscribe with.
struct PushKeyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "key", abstract: "Print the VAPID public key browsers subscribe with (made at the first start).")

    @OptionGroup var options: GlobalOptions

    func run() async throws {
        let services = try options.services()
        print(try await command { try await services.push.publicKey() })
    }
}

/// `hearth push rotate-keys`: a new key pair; every subscription made for the old one goes.
struct PushRotateKeysCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rotate-keys",
        abstract: "Replace the VAPID key pair, dropping every push subscription made for the old one.",
        discussion: """
            Do this if the database (or a backup of it) may have been seen by someone else. Each \
            browser subscribes again with the new key the next time Hearth opens there; until then \
            it gets no notifications.
            """)

    @OptionGroup var options: GlobalOptions

    func run() async throws {
        let services = try options.services()
        let dropped = try await command { try await services.push.rotateKeys(by: .cli) }
        print("New push key made; \(dropped) subscription\(dropped == 1 ? "" : "s") dropped.")
        print(try await command { try await services.push.publicKey() })
    }
}

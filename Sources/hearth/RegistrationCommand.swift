import ArgumentParser
import Services

/// `hearth registration [MODE]`: show or set who may register.
struct RegistrationCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "registration",
        abstract: "Show or set the registration mode: open, invite (the default) or closed.",
        discussion: """
            open: anyone who can reach the server may register. invite: registering needs an invite \
            (`hearth invite create`). closed: only `hearth user add` creates accounts.
            """)

    @OptionGroup var options: GlobalOptions
    @Argument(help: "The new mode; leave out to show the current one.") var mode: String?

    func run() async throws {
        let services = try options.services()
        guard let mode else {
            print(try await command { try await services.registration.mode() }.rawValue)
            return
        }
        guard let newMode = Registration.Mode(rawValue: mode.lowercased()) else {
            throw CLIError("Unknown registration mode '\(mode)'; use open, invite or closed.")
        }
        try await command { try await services.registration.setMode(newMode) }
        print("Registration is now \(newMode.rawValue).")
    }
}

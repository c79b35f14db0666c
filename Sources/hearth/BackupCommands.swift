import Age
import ArgumentParser
import Foundation
import Services
import Storage

/// Reads age identities and recipients from the command line's options.
enum AgeOptions {
    /// Identities from an identity file, or a passphrase from a file or a prompt.
    static func identities(identityFile: String?, passphraseFile: String?) throws -> [AgeIdentity] {
        switch (identityFile, passphraseFile) {
        case (let path?, nil):
            guard let data = FileManager.default.contents(atPath: path) else {
                throw CLIError("Cannot read the identity file \(path).")
            }
            do {
                return try X25519Identity.parseFile(String(decoding: data, as: UTF8.self)).map { .x25519($0) }
            } catch {
                throw CLIError("\(path): \(error)")
            }
        case (nil, let path?):
            return [.passphrase(try PasswordInput.read(file: path, prompt: "Passphrase", confirm: false))]
        default:
            throw CLIError("Give exactly one of --identity FILE or --passphrase-file FILE.")
        }
    }
}

/// `hearth backup --out FILE`: an encrypted backup, safe while `serve` runs.
struct BackupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Write an encrypted backup (age v1) of everything the server keeps.",
        discussion: """
            Safe while `hearth serve` runs on the same data dir: the backup is a consistent snapshot. \
            Encrypted to each --recipient (age1…), or with a passphrase (--passphrase-file, - for stdin), \
            or to the recipients of the backup schedule. `age -d` opens it too: inside is the SQLite file. \
            A passphrase must pass the rules for account passwords (10 characters or more, not a common \
            one), unless --weak-passphrase says to take it anyway.
            """)

    @OptionGroup var options: GlobalOptions
    @Option(help: "Where to write the backup.") var out: String
    @Option(name: .customLong("recipient"), help: "An age1… recipient; repeat for several.") var recipients: [String] =
        []
    @Option(help: "Encrypt with the passphrase on the first line of this file (- for stdin).") var passphraseFile:
        String?
    @Flag(help: "Take a passphrase shorter or more common than the rules for account passwords allow.")
    var weakPassphrase = false

    func run() async throws {
        let services = try options.services()
        var ageRecipients = try recipients.map { text -> AgeRecipient in
            do {
                return .x25519(try X25519Recipient(text))
            } catch {
                throw CLIError("'\(text)' is not an age1… recipient.")
            }
        }
        if let passphraseFile {
            guard ageRecipients.isEmpty else { throw CLIError("Use --recipient or --passphrase-file, not both.") }
            let passphrase = try PasswordInput.read(file: passphraseFile, prompt: "Backup passphrase")
            if !weakPassphrase {
                do {
                    try AccountRules(limits: services.configuration.limits).checkNewPassword(passphrase, username: "")
                } catch {
                    throw CLIError(
                        "That passphrase is too weak to protect a backup: \(error.message) "
                            + "Choose a longer one, or add --weak-passphrase to use it anyway.")
                }
            }
            ageRecipients = [.passphrase(passphrase)]
        }
        if ageRecipients.isEmpty {
            ageRecipients = try await command { try await services.backups.configuredRecipients() }
                .compactMap { try? X25519Recipient($0) }.map { .x25519($0) }
        }
        guard !ageRecipients.isEmpty else {
            throw CLIError("No recipients: pass --recipient age1… (see `hearth keygen`) or --passphrase-file.")
        }
        let target = URL(
            fileURLWithPath: out, relativeTo: URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
        )
        .standardizedFileURL
        let record = try await command { try await services.backups.create(to: target, recipients: ageRecipients) }
        print("Backup written to \(target.path) (\(record.size ?? 0) bytes, \(record.durationMS) ms).")
    }
}

/// `hearth restore FILE`: replaces the database from a backup.
struct RestoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore",
        abstract: "Replace the database with the one in a backup.",
        discussion: """
            Refuses while a server runs on the data dir. Checks the backup completely before touching \
            anything, shows what it holds (the server it came from, its users and messages, when it \
            was made) and asks before it replaces the database: anyone who has the backup key's \
            public half (age1…) can make a file that decrypts, so look before you restore. Without a \
            terminal to ask in, --yes is required. Keeps the old database as \
            hearth.sqlite.pre-restore-<time>.
            """)

    @OptionGroup var options: GlobalOptions
    @Argument(help: "The backup file.") var file: String
    @Option(help: "An age identity file (AGE-SECRET-KEY-1…), as `hearth keygen` writes.") var identity: String?
    @Option(help: "The backup's passphrase, on the first line of this file (- for stdin).") var passphraseFile: String?
    @Flag(help: "Restore without asking (required when standard input is not a terminal).") var yes = false

    func run() async throws {
        let settings = try options.configuration()
        let configuration = settings.hearth
        _ = options.bootstrapLogging(settings)
        let identities = try AgeOptions.identities(identityFile: identity, passphraseFile: passphraseFile)
        let yes = yes
        // Refused while `serve` holds the data dir; held until the swap is done.
        let lock = try await command { try DataDirectoryLock(configuration.dataDirectory) }
        defer { withExtendedLifetime(lock) {} }
        let restored = try await command {
            try Backups.restore(from: URL(fileURLWithPath: file), identities: identities, into: lock) { summary in
                print(Self.describe(summary))
                try Self.confirm(yes: yes)
            }
        }
        print("Restored \(configuration.dataDirectory.appending(path: AppDatabase.fileName).path).")
        if let previous = restored.previous { print("The previous database is kept as \(previous.path).") }
    }

    /// What a backup holds, a line each, as the person restoring it should see it first.
    static func describe(_ summary: AppDatabase.Summary) -> String {
        let unknown = "not recorded (a backup made before Hearth recorded it)"
        return """
            This backup holds:
              server:          \(summary.serverURL ?? "not recorded")
              made:            \(summary.madeAt.map(Format.date) ?? unknown)
              users:           \(summary.users)
              messages:        \(summary.messages)\(summary.newestMessageAt.map { ", the newest from \(Format.date($0))" } ?? "")
            """
    }

    /// Asks on the terminal whether to go ahead; `--yes` answers for a script. Throws to stop.
    static func confirm(yes: Bool) throws {
        if yes { return }
        guard isatty(STDIN_FILENO) == 1 else {
            throw CLIError("Not restored: nothing was changed. Run it in a terminal to be asked, or add --yes.")
        }
        FileHandle.standardError.write(Data("Replace this server's database with it? [y/N] ".utf8))
        let answer = readLine()?.trimmingCharacters(in: .whitespaces).lowercased()
        guard answer == "y" || answer == "yes" else { throw CLIError("Not restored: nothing was changed.") }
    }
}

/// `hearth keygen`: a new age identity.
struct KeygenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keygen",
        abstract: "Create an age identity for backups; prints its recipient (age1…).",
        discussion: """
            Keep the identity file away from the server (it opens every backup); give the printed \
            recipient to `hearth backup --recipient` or the backup schedule.
            """)

    @Option(help: "Write the identity to this new file (default: standard output).") var out: String?

    func run() throws {
        let identity = X25519Identity.generate()
        let stamp = ISO8601DateFormatter().string(from: Date())
        let text = "# created: \(stamp)\n# public key: \(identity.recipient.string)\n\(identity.string)\n"
        if let out {
            guard !FileManager.default.fileExists(atPath: out) else {
                throw CLIError("\(out) already exists; choose another name (an identity is never overwritten).")
            }
            guard
                FileManager.default.createFile(
                    atPath: out, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600])
            else { throw CLIError("Cannot write \(out).") }
            print(identity.recipient.string)
        } else {
            print(text, terminator: "")
            FileHandle.standardError.write(Data("Public key: \(identity.recipient.string)\n".utf8))
        }
    }
}

/// `hearth decrypt`: any age v1 file to standard output.
struct DecryptCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "decrypt", abstract: "Decrypt an age v1 file (binary or armored) to standard output.")

    @Option(help: "An age identity file.") var identity: String?
    @Option(help: "The passphrase, on the first line of this file (- for stdin).") var passphraseFile: String?
    @Argument(help: "The age file.") var file: String

    func run() throws {
        let identities = try AgeOptions.identities(identityFile: identity, passphraseFile: passphraseFile)
        guard let input = FileHandle(forReadingAtPath: file) else { throw CLIError("Cannot read \(file).") }
        do {
            try Age.decrypt(FileInput(input), identities: identities) { bytes in
                try FileHandle.standardOutput.write(contentsOf: bytes)
            }
        } catch {
            throw CLIError("\(file): \(error)")
        }
    }
}

/// `hearth backup-schedule`: show or set the nightly backups.
struct BackupScheduleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup-schedule",
        abstract: "Show or set the backups `hearth serve` makes by itself, and list recent runs.",
        discussion: """
            Example: hearth backup-schedule --every 24h --dir /mnt/usb/hearth --keep 7 --recipient age1… \
            Without options it shows the schedule and the last runs; --off stops scheduled backups.
            """)

    @OptionGroup var options: GlobalOptions
    @Option(help: "How often: a number and h, d or w (e.g. 24h).") var every: String?
    @Option(help: "The folder backups go to.") var dir: String?
    @Option(help: "How many scheduled backups to keep in the folder.") var keep = 7
    @Option(name: .customLong("recipient"), help: "An age1… recipient; repeat for several.") var recipients: [String] =
        []
    @Flag(help: "Stop scheduled backups.") var off = false

    func run() async throws {
        let services = try options.services()
        if off {
            try await command { try await services.backups.setSchedule(nil) }
            print("Scheduled backups are off.")
            return
        }
        if let every {
            guard let interval = Invites.parseLifetime(every) else {
                throw CLIError("--every takes a number and h, d or w, such as 24h; '\(every)' is not one.")
            }
            guard let dir else { throw CLIError("--every needs --dir, the folder backups go to.") }
            let folder = URL(
                fileURLWithPath: dir, relativeTo: URL(fileURLWithPath: FileManager.default.currentDirectoryPath))
            try await command {
                try await services.backups.setSchedule(
                    .init(
                        interval: interval, directory: folder.standardizedFileURL.path, keep: keep,
                        recipients: recipients))
            }
        }
        if let schedule = try await command({ try await services.backups.schedule() }) {
            print(
                "Every \(Int(schedule.interval / 3600)) h to \(schedule.directory), keeping \(schedule.keep), "
                    + "encrypted to \(schedule.recipients.joined(separator: ", ")).")
        } else {
            print("No backup schedule. Set one with --every 24h --dir FOLDER --recipient age1….")
        }
        let runs = try await command { try await services.backups.history(limit: 10) }
        guard !runs.isEmpty else { return }
        let rows = runs.map { run in
            [
                Format.date(run.startedAt), run.kind, run.error == nil ? "ok" : "FAILED",
                run.size.map { "\($0) B" } ?? "-", "\(run.durationMS) ms", run.error ?? run.target,
            ]
        }
        print(
            Format.table(header: ["STARTED", "KIND", "RESULT", "SIZE", "TIME", "TARGET / ERROR"], rows: rows),
            terminator: "")
    }
}

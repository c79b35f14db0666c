import Age
import ArgumentParser
import Credentials
import Foundation
import Logging
import Services
import Storage
import Web

/// Options every command takes: where the data lives, how passwords are hashed, how much to log.
struct GlobalOptions: ParsableArguments {
    @Option(name: .long, help: "The data directory (default: $HEARTH_DATA, else ./hearth-data).")
    var data: String?

    @Option(
        name: .long,
        help: "Log level: trace, debug, info, notice, warning, error (default: $HEARTH_LOG_LEVEL, else info).")
    var logLevel: String?

    @Option(
        name: .long,
        help: "Log format: text, or json for one JSON object per line (default: $HEARTH_LOG_FORMAT, else text).")
    var logFormat: String?

    @Option(help: "Argon2id memory in KiB for new hashes (default: $HEARTH_ARGON2_MEMORY_KIB, else 19456).")
    var argon2Memory: UInt32?

    @Option(help: "Argon2id iterations for new hashes (default: $HEARTH_ARGON2_ITERATIONS, else 2).")
    var argon2Iterations: UInt32?

    @Option(help: "Argon2id parallelism for new hashes (default: $HEARTH_ARGON2_PARALLELISM, else 1).")
    var argon2Parallelism: UInt32?

    @Option(help: "Threads that hash passwords (default: $HEARTH_HASH_THREADS, else 1).")
    var hashThreads: Int?

    @Option(
        help:
            "Sign-ins that may wait for a hashing thread before new ones get 503 (default: $HEARTH_HASH_QUEUE, else 32)."
    )
    var hashQueue: Int?

    /// These options by flag name, for the settings table.
    var flags: [String: String] {
        [
            "--data": data, "--log-level": logLevel, "--log-format": logFormat,
            "--argon2-memory": argon2Memory.map(String.init),
            "--argon2-iterations": argon2Iterations.map(String.init),
            "--argon2-parallelism": argon2Parallelism.map(String.init), "--hash-threads": hashThreads.map(String.init),
            "--hash-queue": hashQueue.map(String.init),
        ].compactMapValues { $0 }
    }

    /// The configuration these options, `serveFlags` (`hearth serve`'s own) and the environment
    /// describe (``Settings``).
    func configuration(serveFlags: [String: String]? = nil) throws -> Configuration {
        try Settings.resolve(
            flags: flags.merging(serveFlags ?? [:]) { $1 }, environment: ProcessInfo.processInfo.environment,
            serving: serveFlags != nil)
    }

    /// Sends logs to stderr at the configured level (else `defaultLevel`), as text or JSON lines
    /// (``JSONLogHandler``), secrets redacted (``RedactingLogHandler``).
    func bootstrapLogging(_ configuration: Configuration, defaultLevel: Logger.Level = .critical) -> Logger {
        let level = configuration.logLevel ?? defaultLevel
        let format = configuration.logFormat
        LoggingSystem.bootstrap { label in
            let written: any LogHandler =
                format == .json ? JSONLogHandler(label: label) : StreamLogHandler.standardError(label: label)
            var handler = RedactingLogHandler(wrapped: written)
            handler.logLevel = level
            return handler
        }
        return Logger(label: "hearth")
    }

    /// Opens the data dir's services for a command that serves no sockets.
    func services(_ configure: (inout HearthConfiguration) throws -> Void = { _ in }) throws -> AppServices {
        var configuration = try configuration()
        try configure(&configuration.hearth)
        let logger = bootstrapLogging(configuration)
        do {
            return try AppServices(configuration: configuration.hearth, logger: logger)
        } catch {
            throw CLIError(error)
        }
    }
}

/// A command-line failure: one line that says what is wrong and what to do.
struct CLIError: Error, CustomStringConvertible {
    let description: String

    init(_ message: String) {
        description = message
    }

    /// The message for an error from the lower layers: always a sentence. What no layer turned
    /// into one (an unexpected database error, say) is not shown raw: the sentence says how to
    /// see it, and the detail goes to the log at debug level.
    init(_ error: any Error) {
        switch error {
        case let error as CLIError: description = error.description
        case let error as ServiceError:
            if case .internal(let detail) = error {
                Logger(label: "hearth").debug("internal error", metadata: ["detail": "\(detail)"])
                description = Self.unexpected
            } else {
                description = error.message
            }
        case let error as ValidationError: description = error.message
        case let error as StorageError:
            switch error {
            case .constraint, .sqlite:
                Logger(label: "hearth").debug("database error", metadata: ["detail": "\(error)"])
                description = Self.unexpected
            default: description = error.description
            }
        case let error as AgeError: description = error.description
        case let error as TLSSetupError: description = error.description
        default:
            Logger(label: "hearth").debug("unexpected error", metadata: ["detail": "\(String(reflecting: error))"])
            description = Self.unexpected
        }
    }

    static let unexpected =
        "Hearth could not do that because of an unexpected internal error; run the command again with "
        + "--log-level debug to see it, and report it if it persists."
}

/// Runs a command's body, turning any failure into a ``CLIError``.
func command<T>(_ body: () async throws -> T) async throws -> T {
    do {
        return try await body()
    } catch {
        throw CLIError(error)
    }
}

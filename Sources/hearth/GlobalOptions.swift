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

    /// The configuration these options (and the environment) describe.
    func configuration() throws -> HearthConfiguration {
        let environment = ProcessInfo.processInfo.environment
        let directory = data ?? environment["HEARTH_DATA"] ?? "./hearth-data"
        var configuration = HearthConfiguration(
            dataDirectory: URL(
                fileURLWithPath: directory, relativeTo: URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
            ).standardizedFileURL)
        var parameters = Argon2Parameters.default
        parameters.memoryKiB =
            try argon2Memory ?? Environment.number("HEARTH_ARGON2_MEMORY_KIB") ?? parameters.memoryKiB
        parameters.iterations =
            try argon2Iterations ?? Environment.number("HEARTH_ARGON2_ITERATIONS") ?? parameters.iterations
        parameters.parallelism =
            try argon2Parallelism ?? Environment.number("HEARTH_ARGON2_PARALLELISM") ?? parameters.parallelism
        guard parameters.isValid, parameters.fits(under: .ceiling) else {
            throw CLIError(
                "Argon2 parameters \(parameters) are out of range (the most allowed is \(Argon2Parameters.ceiling)).")
        }
        configuration.hashing.parameters = parameters
        configuration.hashing.threads = try hashThreads ?? Environment.number("HEARTH_HASH_THREADS") ?? 1
        configuration.hashing.queueLimit = try hashQueue ?? Environment.number("HEARTH_HASH_QUEUE") ?? 32
        guard configuration.hashing.threads >= 1, configuration.hashing.queueLimit >= 1 else {
            throw CLIError("--hash-threads and --hash-queue must be at least 1.")
        }
        let throttles = [
            ("HEARTH_THROTTLE_LOGIN_ACCOUNT", \HearthConfiguration.ThrottlePolicies.loginPerAccount),
            ("HEARTH_THROTTLE_LOGIN_ADDRESS", \.loginPerAddress),
            ("HEARTH_THROTTLE_REGISTER", \.registerPerAddress),
        ]
        for (name, policy) in throttles {
            guard let burst: Int = try Environment.number(name) else { continue }
            guard burst >= 1 else { throw CLIError("$\(name) must be at least 1.") }
            configuration.throttles[keyPath: policy].burst = burst
        }
        for (name, limit) in Self.relayLimits {
            guard let value: Int = try Environment.number(name) else { continue }
            guard value >= 1 else { throw CLIError("$\(name) must be at least 1.") }
            configuration.relay[keyPath: limit] = value
        }
        for (name, limit) in Self.accountLimits {
            guard let value: Int = try Environment.number(name) else { continue }
            guard value >= 1 else { throw CLIError("$\(name) must be at least 1.") }
            configuration.limits[keyPath: limit] = value
        }
        for (name, limit) in Self.moderationLimits {
            guard let value: Int = try Environment.number(name) else { continue }
            guard value >= 1 else { throw CLIError("$\(name) must be at least 1.") }
            configuration.moderation[keyPath: limit] = value
        }
        if let days: Int = try Environment.number("HEARTH_MUTE_MAX_DAYS") {
            guard days >= 1 else { throw CLIError("$HEARTH_MUTE_MAX_DAYS must be at least 1.") }
            configuration.moderation.muteMaxDuration = TimeInterval(days) * 86_400
        }
        for (name, unit, duration) in Self.durations {
            guard let value: Int = try Environment.number(name) else { continue }
            guard value >= 1 else { throw CLIError("$\(name) must be at least 1.") }
            configuration[keyPath: duration] = TimeInterval(value) * unit
        }
        if let perAddress: Int = try Environment.number("HEARTH_MAX_CONNECTIONS_PER_ADDRESS") {
            guard perAddress >= 1 else { throw CLIError("$HEARTH_MAX_CONNECTIONS_PER_ADDRESS must be at least 1.") }
            configuration.connections.perAddress = perAddress
        }
        if let quota: Int64 = try Environment.number("HEARTH_ATTACHMENT_QUOTA_BYTES") {
            configuration.limits.attachmentQuotaBytes = quota
        }
        if let types = ProcessInfo.processInfo.environment["HEARTH_ATTACHMENT_TYPES"], !types.isEmpty {
            configuration.limits.attachmentTypes = Set(
                types.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() })
        }
        return configuration
    }

    /// The session lifetimes and connection timeouts that `HEARTH_*` variables set, with the
    /// seconds in each variable's unit (docs/ADMIN.md).
    static var durations: [(String, TimeInterval, WritableKeyPath<HearthConfiguration, TimeInterval>)] {
        [
            ("HEARTH_SESSION_IDLE_DAYS", 86_400, \.sessions.idleTimeout),
            ("HEARTH_SESSION_MAX_DAYS", 86_400, \.sessions.maxAge),
            ("HEARTH_ADMIN_IDLE_MINUTES", 60, \.sessions.adminIdleTimeout),
            ("HEARTH_ADMIN_MAX_HOURS", 3600, \.sessions.adminMaxAge),
            ("HEARTH_HEADER_TIMEOUT", 1, \.connections.headerTimeout),
            ("HEARTH_BODY_TIMEOUT", 1, \.connections.bodyTimeout),
            ("HEARTH_KEEP_ALIVE_TIMEOUT", 1, \.connections.keepAliveTimeout),
        ]
    }

    /// The messaging limits that `HEARTH_*` variables set (docs/ADMIN.md).
    static var relayLimits: [(String, WritableKeyPath<HearthConfiguration.RelayLimits, Int>)] {
        [
            ("HEARTH_MAX_FRAME_BYTES", \.maxFrameBytes),
            ("HEARTH_MAX_BODY_BYTES", \.maxBodyBytes),
            ("HEARTH_MESSAGES_PER_MINUTE", \.messagesPerMinute),
            ("HEARTH_FRAMES_PER_SECOND", \.framesPerSecond),
            ("HEARTH_SOCKETS_PER_DEVICE", \.socketsPerDevice),
            ("HEARTH_SOCKETS_PER_USER", \.socketsPerUser),
            ("HEARTH_ROOMS_PER_USER", \.roomsPerUser),
            ("HEARTH_MEMBERS_PER_ROOM", \.membersPerRoom),
            ("HEARTH_OUTBOX_FRAMES", \.outboxFrames),
            ("HEARTH_OUTBOX_BYTES", \.outboxBytes),
            ("HEARTH_SYNC_PAGE_SIZE", \.syncPageSize),
            ("HEARTH_HISTORY_MAX_LIMIT", \.historyMaxLimit),
            ("HEARTH_ATTACHMENTS_PER_MESSAGE", \.attachmentsPerMessage),
        ]
    }

    /// The account and attachment limits that `HEARTH_*` variables set (docs/ADMIN.md).
    static var accountLimits: [(String, WritableKeyPath<HearthConfiguration.Limits, Int>)] {
        [
            ("HEARTH_DEVICES_PER_USER", \.devicesPerUser),
            ("HEARTH_ATTACHMENT_MAX_BYTES", \.attachmentMaxBytes),
            ("HEARTH_AUTH_BODY_BYTES", \.authBodyBytes),
        ]
    }

    /// The moderation limits that `HEARTH_*` variables set (docs/ADMIN.md).
    static var moderationLimits: [(String, WritableKeyPath<HearthConfiguration.ModerationLimits, Int>)] {
        [
            ("HEARTH_MAX_RULES", \.maxRules),
            ("HEARTH_RULE_PATTERN_MAX_CHARS", \.patternMaxCharacters),
            ("HEARTH_RULE_REGEX_MAX_CHARS", \.regexMaxCharacters),
            ("HEARTH_RULE_REGEX_MEMORY_KIB", \.regexMemoryKiB),
            ("HEARTH_RULE_RATE_MAX_COUNT", \.rateMaxCount),
            ("HEARTH_REPORT_REASON_MAX_CHARS", \.reasonMaxCharacters),
            ("HEARTH_QUEUE_CONTEXT_MESSAGES", \.contextMessages),
        ]
    }

    /// Sends logs to stderr at the chosen level, secrets redacted (``RedactingLogHandler``).
    func bootstrapLogging(defaultLevel: String = "critical") throws -> Logger {
        let name = logLevel ?? ProcessInfo.processInfo.environment["HEARTH_LOG_LEVEL"] ?? defaultLevel
        guard let level = Logger.Level(rawValue: name.lowercased()) else {
            throw CLIError("Unknown log level '\(name)'; use trace, debug, info, notice, warning, error or critical.")
        }
        LoggingSystem.bootstrap { label in
            var handler = RedactingLogHandler(wrapped: StreamLogHandler.standardError(label: label))
            handler.logLevel = level
            return handler
        }
        return Logger(label: "hearth")
    }

    /// Opens the data dir's services for a command.
    func services(
        logLevel defaultLevel: String = "critical", _ configure: (inout HearthConfiguration) throws -> Void = { _ in }
    ) throws -> AppServices {
        var configuration = try configuration()
        try configure(&configuration)
        let logger = try bootstrapLogging(defaultLevel: defaultLevel)
        do {
            return try AppServices(configuration: configuration, logger: logger)
        } catch {
            throw CLIError(error)
        }
    }
}

/// Reads `HEARTH_*` environment variables.
enum Environment {
    /// A number from the environment, nil when unset; an error when set to something else.
    static func number<T: LosslessStringConvertible>(_ name: String) throws -> T? {
        guard let text = ProcessInfo.processInfo.environment[name], !text.isEmpty else { return nil }
        guard let value = T(text) else { throw CLIError("$\(name) must be a number, not '\(text)'.") }
        return value
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

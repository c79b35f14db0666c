import Credentials
import Foundation
import Logging
import Services
import Web

/// What flags and `HEARTH_*` variables configure: the services, how the server meets the
/// network, and the log.
struct Configuration {
    var hearth: HearthConfiguration
    var server = ServerConfiguration()
    /// The log level chosen; nil leaves each command its own default.
    var logLevel: Logger.Level?
    /// How log lines are written: text for people, JSON for machines.
    var logFormat = LogFormat.text

    enum LogFormat: String, CaseIterable { case text, json }
}

/// One setting: its `HEARTH_*` variable, the flag that overrides it (nil: the variable alone),
/// and what its text sets. A value that does not parse is an error naming the flag or variable.
struct Setting {
    let variable: String
    let flag: String?
    /// Read by `hearth serve` only.
    let serveOnly: Bool
    let apply: (_ text: String, _ name: String, _ configuration: inout Configuration) throws -> Void
}

/// Every setting of `hearth`, in one table: docs/ADMIN.md's *Every setting* lists exactly these
/// (`SettingsTests` checks that). A flag wins over its variable; an empty variable is unset.
enum Settings {
    static var all: [Setting] {
        [
            Setting(variable: "HEARTH_DATA", flag: "--data", serveOnly: false) { text, _, configuration in
                configuration.hearth.dataDirectory = dataDirectory(text)
            },
            Setting(variable: "HEARTH_LOG_LEVEL", flag: "--log-level", serveOnly: false) { text, _, configuration in
                guard let level = Logger.Level(rawValue: text.lowercased()) else {
                    throw CLIError(
                        "Unknown log level '\(text)'; use trace, debug, info, notice, warning, error or critical.")
                }
                configuration.logLevel = level
            },
            Setting(variable: "HEARTH_METRICS_ALLOW", flag: nil, serveOnly: true) { text, name, configuration in
                let entries = list(text)
                if let bad = entries.first(where: { !ServerConfiguration.MetricsAccess.isValid($0) }) {
                    throw CLIError("\(name): '\(bad)' is not an IP address or a network like 192.168.1.0/24.")
                }
                configuration.server.metrics.allowed = entries
            },
            Setting(variable: "HEARTH_METRICS_TOKEN_FILE", flag: nil, serveOnly: true) { text, name, configuration in
                guard let data = FileManager.default.contents(atPath: text) else {
                    throw CLIError("\(name): cannot read \(text).")
                }
                let token = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
                guard token.count >= 16, !token.contains(where: \.isWhitespace) else {
                    throw CLIError("\(name): the token in \(text) must be one word of 16 characters or more.")
                }
                configuration.server.metrics.token = token
            },
            Setting(variable: "HEARTH_LOG_FORMAT", flag: "--log-format", serveOnly: false) { text, _, configuration in
                guard let format = Configuration.LogFormat(rawValue: text.lowercased()) else {
                    throw CLIError("Unknown log format '\(text)'; use text or json.")
                }
                configuration.logFormat = format
            },
            argon2("HEARTH_ARGON2_MEMORY_KIB", flag: "--argon2-memory", \.memoryKiB),
            argon2("HEARTH_ARGON2_ITERATIONS", flag: "--argon2-iterations", \.iterations),
            argon2("HEARTH_ARGON2_PARALLELISM", flag: "--argon2-parallelism", \.parallelism),
            count("HEARTH_HASH_THREADS", flag: "--hash-threads", \.hearth.hashing.threads),
            count("HEARTH_HASH_QUEUE", flag: "--hash-queue", \.hearth.hashing.queueLimit),
            count("HEARTH_THROTTLE_LOGIN_ACCOUNT", \.hearth.throttles.loginPerAccount.burst),
            count("HEARTH_THROTTLE_LOGIN_ADDRESS", \.hearth.throttles.loginPerAddress.burst),
            count("HEARTH_THROTTLE_REGISTER", \.hearth.throttles.registerPerAddress.burst),
            count("HEARTH_MAX_FRAME_BYTES", \.hearth.relay.maxFrameBytes),
            count("HEARTH_MAX_BODY_BYTES", \.hearth.relay.maxBodyBytes),
            count("HEARTH_MESSAGES_PER_MINUTE", \.hearth.relay.messagesPerMinute),
            count("HEARTH_FRAMES_PER_SECOND", \.hearth.relay.framesPerSecond),
            count("HEARTH_SOCKETS_PER_DEVICE", \.hearth.relay.socketsPerDevice),
            count("HEARTH_SOCKETS_PER_USER", \.hearth.relay.socketsPerUser),
            count("HEARTH_ROOMS_PER_USER", \.hearth.relay.roomsPerUser),
            count("HEARTH_MEMBERS_PER_ROOM", \.hearth.relay.membersPerRoom),
            count("HEARTH_OUTBOX_FRAMES", \.hearth.relay.outboxFrames),
            count("HEARTH_OUTBOX_BYTES", \.hearth.relay.outboxBytes),
            Setting(variable: "HEARTH_COMMIT_INTERVAL_MS", flag: nil, serveOnly: false) { text, name, configuration in
                let milliseconds: Int = try number(text, name, minimum: 0)
                guard milliseconds <= 1000 else { throw CLIError("\(name) must be 0–1000.") }
                configuration.hearth.relay.commitIntervalMilliseconds = milliseconds
            },
            count("HEARTH_SYNC_PAGE_SIZE", \.hearth.relay.syncPageSize),
            count("HEARTH_HISTORY_MAX_LIMIT", \.hearth.relay.historyMaxLimit),
            count("HEARTH_SEARCH_INDEX_BATCH", \.hearth.relay.searchIndexBatch),
            count("HEARTH_ATTACHMENTS_PER_MESSAGE", \.hearth.relay.attachmentsPerMessage),
            count("HEARTH_DEVICES_PER_USER", \.hearth.limits.devicesPerUser),
            count("HEARTH_AUTH_BODY_BYTES", \.hearth.limits.authBodyBytes),
            count("HEARTH_ATTACHMENT_MAX_BYTES", \.hearth.limits.attachmentMaxBytes),
            count("HEARTH_AVATAR_MAX_BYTES", \.hearth.limits.avatarMaxBytes),
            count("HEARTH_WEBHOOK_MESSAGES_PER_MINUTE", \.hearth.limits.webhookMessagesPerMinute),
            count("HEARTH_WEBHOOK_BODY_BYTES", \.hearth.limits.webhookBodyBytes),
            count("HEARTH_WEBHOOKS_PER_ROOM", \.hearth.limits.webhooksPerRoom),
            count("HEARTH_DISPLAY_NAME_MAX_CHARS", \.hearth.limits.displayNameMaxCharacters),
            Setting(variable: "HEARTH_ATTACHMENT_QUOTA_BYTES", flag: nil, serveOnly: false) {
                text, name, configuration in
                configuration.hearth.limits.attachmentQuotaBytes = try number(text, name, minimum: 0)
            },
            Setting(variable: "HEARTH_ATTACHMENT_TYPES", flag: nil, serveOnly: false) { text, _, configuration in
                configuration.hearth.limits.attachmentTypes = Set(list(text).map { $0.lowercased() })
            },
            count("HEARTH_MAX_RULES", \.hearth.moderation.maxRules),
            count("HEARTH_RULE_PATTERN_MAX_CHARS", \.hearth.moderation.patternMaxCharacters),
            count("HEARTH_RULE_REGEX_MAX_CHARS", \.hearth.moderation.regexMaxCharacters),
            count("HEARTH_RULE_REGEX_MEMORY_KIB", \.hearth.moderation.regexMemoryKiB),
            count("HEARTH_RULE_RATE_MAX_COUNT", \.hearth.moderation.rateMaxCount),
            count("HEARTH_REPORT_REASON_MAX_CHARS", \.hearth.moderation.reasonMaxCharacters),
            count("HEARTH_QUEUE_CONTEXT_MESSAGES", \.hearth.moderation.contextMessages),
            duration("HEARTH_MUTE_MAX_DAYS", days, \.hearth.moderation.muteMaxDuration),
            duration("HEARTH_SESSION_IDLE_DAYS", days, \.hearth.sessions.idleTimeout),
            duration("HEARTH_SESSION_MAX_DAYS", days, \.hearth.sessions.maxAge),
            duration("HEARTH_ADMIN_IDLE_MINUTES", 60, \.hearth.sessions.adminIdleTimeout),
            duration("HEARTH_ADMIN_MAX_HOURS", 3600, \.hearth.sessions.adminMaxAge),

            // How `serve` meets the network.
            Setting(variable: "HEARTH_HOST", flag: "--host", serveOnly: true) { text, _, configuration in
                configuration.server.host = text
            },
            Setting(variable: "HEARTH_PORT", flag: "--port", serveOnly: true) { text, name, configuration in
                let port: Int = try number(text, name, minimum: 0)
                guard port <= 65_535 else { throw CLIError("\(name) must be 0–65535.") }
                configuration.server.port = port
            },
            Setting(variable: "HEARTH_PUBLIC_URL", flag: "--public-url", serveOnly: true) {
                text, name, configuration in
                guard let components = URLComponents(string: text), ["http", "https"].contains(components.scheme),
                    components.host?.isEmpty == false
                else { throw CLIError("\(name) must be an http:// or https:// URL, not '\(text)'.") }
                configuration.hearth.publicURL = text
            },
            Setting(variable: "HEARTH_TRUSTED_PROXIES", flag: "--trusted-proxy", serveOnly: true) {
                text, _, configuration in
                configuration.server.trustedProxies = list(text)
            },
            Setting(variable: "HEARTH_TLS_CERT", flag: "--tls-cert", serveOnly: true) { text, _, configuration in
                configuration.server.tls = .init(certificate: text, key: configuration.server.tls?.key ?? "")
            },
            Setting(variable: "HEARTH_TLS_KEY", flag: "--tls-key", serveOnly: true) { text, _, configuration in
                configuration.server.tls = .init(certificate: configuration.server.tls?.certificate ?? "", key: text)
            },
            count("HEARTH_MAX_CONNECTIONS_PER_ADDRESS", serveOnly: true, \.server.connections.perAddress),
            duration("HEARTH_HEADER_TIMEOUT", 1, serveOnly: true, \.server.connections.headerTimeout),
            duration("HEARTH_BODY_TIMEOUT", 1, serveOnly: true, \.server.connections.bodyTimeout),
            duration("HEARTH_KEEP_ALIVE_TIMEOUT", 1, serveOnly: true, \.server.connections.keepAliveTimeout),

            // Web Push.
            duration("HEARTH_PUSH_TTL_HOURS", 3600, \.hearth.push.timeToLive),
            duration("HEARTH_PUSH_TIMEOUT", 1, \.hearth.push.timeout),
            count("HEARTH_PUSH_QUEUE_MAX", \.hearth.push.queueLimit),
            count("HEARTH_PUSH_CONCURRENCY", \.hearth.push.concurrency),
            count("HEARTH_PUSH_SUBSCRIPTIONS_PER_DEVICE", \.hearth.push.subscriptionsPerDevice),
            Setting(variable: "HEARTH_PUSH_ALLOW_HTTP", flag: nil, serveOnly: false) { text, name, configuration in
                configuration.hearth.push.allowLoopbackHTTP = try boolean(text, name)
            },
            Setting(variable: "HEARTH_PUSH_SUBJECT", flag: nil, serveOnly: false) { text, name, configuration in
                guard text.hasPrefix("mailto:") || text.hasPrefix("https://") else {
                    throw CLIError("\(name) must be a mailto: or https:// URL, not '\(text)'.")
                }
                configuration.hearth.push.subject = text
            },
            count("HEARTH_OUTGOING_WEBHOOK_ATTEMPTS", \.hearth.outgoingWebhooks.attempts),
            duration("HEARTH_OUTGOING_WEBHOOK_RETRY_SECONDS", 1, \.hearth.outgoingWebhooks.firstRetry),
            duration("HEARTH_OUTGOING_WEBHOOK_TIMEOUT", 1, \.hearth.outgoingWebhooks.timeout),
            count("HEARTH_OUTGOING_WEBHOOKS_PER_ROOM", \.hearth.outgoingWebhooks.perRoom),
            count("HEARTH_OUTGOING_WEBHOOK_CONCURRENCY", \.hearth.outgoingWebhooks.concurrency),
            Setting(variable: "HEARTH_WEBHOOK_ALLOW_PRIVATE", flag: nil, serveOnly: false) {
                text, name, configuration in
                let entries = list(text)
                if let bad = entries.first(where: { OutgoingWebhooks.AddressPolicy.checkEntry($0) != nil }) {
                    throw CLIError(
                        "\(name): '\(bad)' is not an address, a network like 192.168.1.0/24, or a host name.")
                }
                configuration.hearth.outgoingWebhooks.allowPrivate = entries
            },
            duration("HEARTH_CALL_RING_SECONDS", 1, \.hearth.calls.ringTimeout),
            count("HEARTH_CALL_MAX_PEOPLE", \.hearth.calls.maxParticipants),
            count("HEARTH_CALL_CANDIDATES_PER_SECOND", \.hearth.calls.candidatesPerSecond),
            count("HEARTH_CALL_SIGNAL_BYTES", \.hearth.calls.signalBytes),
            duration("HEARTH_TURN_TTL_HOURS", 3600, \.hearth.calls.turnCredentialLifetime),
            Setting(variable: "HEARTH_TURN_URI", flag: "--turn-uri", serveOnly: true) { text, name, configuration in
                let uris = list(text)
                if let bad = uris.first(where: { uri in
                    !["turn:", "turns:", "stun:", "stuns:"].contains { uri.hasPrefix($0) }
                }) {
                    throw CLIError(
                        "\(name): '\(bad)' is not a turn:, turns: or stun: URI (turn:home.example.org:3478).")
                }
                configuration.hearth.calls.turnURIs = uris
            },
            Setting(variable: "HEARTH_TURN_SECRET_FILE", flag: "--turn-secret", serveOnly: true) {
                text, name, configuration in
                guard let data = FileManager.default.contents(atPath: text) else {
                    throw CLIError("\(name): cannot read \(text).")
                }
                let secret = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
                guard secret.count >= 16, !secret.contains(where: \.isWhitespace) else {
                    throw CLIError("\(name): the secret in \(text) must be one word of 16 characters or more.")
                }
                configuration.hearth.calls.turnSecret = secret
            },
            Setting(variable: "HEARTH_PUSH_PREVIEW", flag: nil, serveOnly: false) { text, name, configuration in
                guard let preview = HearthConfiguration.PushSettings.Preview(rawValue: text.lowercased()) else {
                    throw CLIError("\(name) must be full, sender or none, not '\(text)'.")
                }
                configuration.hearth.push.preview = preview
            },
        ]
    }

    /// The configuration `flags` (by flag name, repeatable ones comma-joined) and `environment`
    /// describe, for `serve` (`serving`) or another command.
    static func resolve(
        flags: [String: String], environment: [String: String], serving: Bool
    ) throws -> Configuration {
        var configuration = Configuration(hearth: HearthConfiguration(dataDirectory: dataDirectory("./hearth-data")))
        for setting in all where serving || !setting.serveOnly {
            if let flag = setting.flag, let text = flags[flag] {
                try setting.apply(text, flag, &configuration)
            } else if let text = environment[setting.variable], !text.isEmpty {
                try setting.apply(text, "$" + setting.variable, &configuration)
            }
        }
        let parameters = configuration.hearth.hashing.parameters
        guard parameters.isValid, parameters.fits(under: .ceiling) else {
            throw CLIError(
                "Argon2 parameters \(parameters) are out of range (the most allowed is \(Argon2Parameters.ceiling)).")
        }
        if let tls = configuration.server.tls {
            guard !tls.key.isEmpty else { throw CLIError("--tls-cert needs --tls-key: the certificate's private key.") }
            guard !tls.certificate.isEmpty else { throw CLIError("--tls-key needs --tls-cert: the certificate chain.") }
        }
        return configuration
    }

    // MARK: Kinds of setting

    static let days: TimeInterval = 86_400

    /// A whole number of at least 1.
    static func count(
        _ variable: String, flag: String? = nil, serveOnly: Bool = false,
        _ keyPath: WritableKeyPath<Configuration, Int>
    ) -> Setting {
        Setting(variable: variable, flag: flag, serveOnly: serveOnly) { text, name, configuration in
            configuration[keyPath: keyPath] = try number(text, name, minimum: 1)
        }
    }

    /// A whole number of `unit`s (seconds in each), at least 1.
    static func duration(
        _ variable: String, _ unit: TimeInterval, serveOnly: Bool = false,
        _ keyPath: WritableKeyPath<Configuration, TimeInterval>
    ) -> Setting {
        Setting(variable: variable, flag: nil, serveOnly: serveOnly) { text, name, configuration in
            let count: Int = try number(text, name, minimum: 1)
            configuration[keyPath: keyPath] = TimeInterval(count) * unit
        }
    }

    /// One of the Argon2id parameters for new hashes.
    static func argon2(
        _ variable: String, flag: String, _ keyPath: WritableKeyPath<Argon2Parameters, UInt32>
    ) -> Setting {
        Setting(variable: variable, flag: flag, serveOnly: false) { text, name, configuration in
            configuration.hearth.hashing.parameters[keyPath: keyPath] = try number(text, name, minimum: 1)
        }
    }

    static func number<T: FixedWidthInteger>(_ text: String, _ name: String, minimum: T) throws -> T {
        guard let value = T(text.trimmingCharacters(in: .whitespaces)) else {
            throw CLIError("\(name) must be a number, not '\(text)'.")
        }
        guard value >= minimum else { throw CLIError("\(name) must be at least \(minimum).") }
        return value
    }

    /// `true`/`false` (also `1`/`0`, `yes`/`no`).
    static func boolean(_ text: String, _ name: String) throws -> Bool {
        switch text.trimmingCharacters(in: .whitespaces).lowercased() {
        case "true", "1", "yes": return true
        case "false", "0", "no": return false
        default: throw CLIError("\(name) must be true or false, not '\(text)'.")
        }
    }

    /// A comma-separated list, each item trimmed, empty ones dropped.
    static func list(_ text: String) -> [String] {
        text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    /// A data directory path, relative to the working directory.
    static func dataDirectory(_ path: String) -> URL {
        URL(fileURLWithPath: path, relativeTo: URL(fileURLWithPath: FileManager.default.currentDirectoryPath))
            .standardizedFileURL
    }
}

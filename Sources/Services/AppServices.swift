import Credentials
import Foundation
import Logging
import Storage

/// The domain services of one Hearth data dir, built once per process by the CLI and shared by
/// the HTTP handlers and the CLI commands alike.
public final class AppServices: Sendable {
    public let configuration: HearthConfiguration
    public let database: AppDatabase
    public let accounts: Accounts
    public let invites: Invites
    public let rooms: Rooms
    public let relay: Relay
    public let linking: Linking
    public let backups: Backups
    public let attachments: Attachments
    public let moderation: Moderation
    /// When these services were built: the server's start.
    public let startedAt: Date
    let statusCache = StatusCache()
    let clock: @Sendable () -> Date
    public let logger: Logger

    static let publicURLKey = Store.publicURLKey

    /// Opens the data dir's database (creating and migrating it) and builds the services.
    public init(
        configuration: HearthConfiguration, clock: @escaping @Sendable () -> Date = { Date() },
        logger: Logger = Logger(label: "hearth")
    ) throws {
        self.configuration = configuration
        self.logger = logger
        self.clock = clock
        startedAt = clock()
        database = try AppDatabase.open(dataDirectory: configuration.dataDirectory)
        let hasher = try PasswordHasher(configuration: configuration.hashing)
        let hub = RelayHub(database: database, limits: configuration.relay, clock: clock, logger: logger)
        let throttle = Throttle(now: clock)
        accounts = Accounts(
            database: database, hasher: hasher, throttle: throttle, hub: hub,
            configuration: configuration, clock: clock, logger: logger)
        invites = Invites(database: database, limits: configuration.limits, clock: clock, logger: logger)
        let screener = try Screener.load(
            database: database, limits: configuration.moderation, clock: clock, logger: logger)
        let writer = MessageWriter(database: database, hub: hub, screener: screener, clock: clock, logger: logger)
        moderation = Moderation(
            database: database, hub: hub, screener: screener, writer: writer, limits: configuration.moderation,
            clock: clock, logger: logger)
        relay = Relay(
            database: database, hub: hub, writer: writer, limits: configuration.relay, clock: clock, logger: logger)
        rooms = Rooms(database: database, limits: configuration.relay, hub: hub, clock: clock, logger: logger)
        let database = database
        let explicitURL = configuration.publicURL
        linking = Linking(
            database: database, hub: hub, throttle: throttle, configuration: configuration,
            publicURL: { await Self.publicURL(explicit: explicitURL, database: database) }, clock: clock, logger: logger
        )
        backups = Backups(
            database: database, dataDirectory: configuration.dataDirectory, clock: clock, logger: logger)
        attachments = Attachments(database: database, limits: configuration.limits, clock: clock, logger: logger)
    }

    /// The services' clock (a test clock in tests).
    public func now() -> Date { clock() }

    /// The URL people reach the server at: the configured one, else the one the last `serve`
    /// recorded, else `http://localhost:8080`. Without a trailing slash.
    public func publicURL() async -> String {
        await Self.publicURL(explicit: configuration.publicURL, database: database)
    }

    static func publicURL(explicit: String?, database: AppDatabase) async -> String {
        if let url = explicit { return trimmed(url) }
        let stored = try? await database.read { try $0.setting(publicURLKey) }
        return (stored ?? nil).map(trimmed) ?? "http://localhost:8080"
    }

    /// Records the URL a running server is reached at, so CLI commands print working links; an
    /// admin who sets it is written to the audit log.
    public func recordPublicURL(_ url: String, by actor: AuditActor? = nil) async throws {
        let now = clock().epochMilliseconds
        try await run {
            try await database.write { store in
                try store.setSetting(Self.publicURLKey, to: Self.trimmed(url))
                if let actor { try store.audit(actor, "setting_changed", target: "public URL", detail: url, now: now) }
            }
        }
    }

    /// The URL a new invite's code is used at.
    public func inviteURL(_ created: Invites.Created) async -> String {
        await publicURL() + "/invite/" + created.code
    }

    /// Succeeds when the database can be read and written.
    public func checkHealth() async throws {
        try await run { try await database.checkHealth() }
    }

    static func trimmed(_ url: String) -> String {
        url.hasSuffix("/") ? String(url.dropLast()) : url
    }
}

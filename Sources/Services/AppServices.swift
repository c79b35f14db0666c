import Credentials
import Foundation
import Logging
import Storage

/// The domain services of one Hearth data dir, built once per process by the CLI and shared by
/// the HTTP handlers and the CLI commands alike.
public final class AppServices: Sendable {
    public let configuration: HearthConfiguration
    public let database: AppDatabase
    public let registration: Registration
    public let sessions: Sessions
    public let profiles: Profiles
    public let webhooks: Webhooks
    /// Outgoing webhooks; `serve` runs their sender.
    public let outgoingWebhooks: OutgoingWebhooks
    public let accounts: Accounts
    public let invites: Invites
    public let rooms: Rooms
    public let relay: Relay
    public let calls: Calls
    public let linking: Linking
    public let backups: Backups
    public let attachments: Attachments
    public let moderation: Moderation
    public let push: Push
    /// Sends the queued pushes; `serve` runs it.
    public let pushDelivery: PushDelivery
    /// When these services were built: the server's start.
    public let startedAt: Date
    let statusCache = StatusCache()
    let clock: @Sendable () -> Date
    /// The socket side, told what happens.
    let live: any LiveEvents
    public let logger: Logger
    /// The password hasher the account services share (its queue depth is a metric).
    let hasher: PasswordHasher

    static let publicURLKey = Store.publicURLKey

    /// Opens the data dir's database (creating and migrating it) and builds the services.
    /// `live` is the socket side that services announce to; a process without sockets passes none.
    public init(
        configuration: HearthConfiguration, live: any LiveEvents = .none,
        clock: @escaping @Sendable () -> Date = { Date() }, logger: Logger = Logger(label: "hearth")
    ) throws {
        self.configuration = configuration
        self.logger = logger
        self.clock = clock
        self.live = live
        startedAt = clock()
        database = try AppDatabase.open(dataDirectory: configuration.dataDirectory)
        let context = ServiceContext(
            database: database, live: live, clock: clock, logger: logger, metrics: HearthMetrics())
        let hasher = try PasswordHasher(configuration: configuration.hashing)
        self.hasher = hasher
        let throttle = Throttle(now: clock)
        let gate = AccountGate(hasher: hasher, throttle: throttle, configuration: configuration)
        registration = Registration(context: context, gate: gate)
        sessions = Sessions(context: context, gate: gate, sessionLimits: configuration.sessions)
        accounts = Accounts(context: context, hasher: hasher, configuration: configuration)
        invites = Invites(context: context, limits: configuration.limits)
        let screener = try Screener.load(
            database: database, limits: configuration.moderation, clock: clock, logger: logger)
        let planner = PushPlanner(live: live, settings: configuration.push, logger: logger)
        try database.readNow { try planner.load($0) }
        let outgoing = OutgoingPlanner()
        try database.readNow { try outgoing.load($0) }
        let writer = MessageWriter(
            context: context, screener: screener, planner: planner, outgoing: outgoing,
            commitInterval: .milliseconds(configuration.relay.commitIntervalMilliseconds))
        moderation = Moderation(
            context: context, screener: screener, writer: writer, limits: configuration.moderation)
        calls = Calls(context: context, settings: configuration.calls, writer: writer, planner: planner)
        relay = Relay(context: context, writer: writer, limits: configuration.relay, calls: calls)
        rooms = Rooms(context: context, limits: configuration.relay, writer: writer)
        webhooks = Webhooks(
            context: context, writer: writer, limits: configuration.limits, relayLimits: configuration.relay)
        outgoingWebhooks = OutgoingWebhooks(
            context: context, settings: configuration.outgoingWebhooks, planner: outgoing)
        let database = database
        let explicitURL = configuration.publicURL
        let publicURL: @Sendable () async -> String = {
            await Self.publicURL(explicit: explicitURL, database: database)
        }
        linking = Linking(
            context: context, throttle: throttle, configuration: configuration, planner: planner, publicURL: publicURL)
        push = Push(context: context, settings: configuration.push, planner: planner)
        pushDelivery = PushDelivery(
            context: context, settings: configuration.push, signal: planner.wakeUp, publicURL: publicURL)
        backups = Backups(context: context, dataDirectory: configuration.dataDirectory)
        attachments = Attachments(context: context, limits: configuration.limits)
        profiles = Profiles(context: context, limits: configuration.limits)
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

    /// The WAL checkpointer `serve` runs beside the server.
    public func checkpointer() throws -> WALCheckpointer {
        try WALCheckpointer(database: database)
    }
}

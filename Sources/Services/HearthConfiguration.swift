import Credentials
import Foundation

/// Everything the services are configured with: built once by the CLI from flags and `HEARTH_*`
/// variables (its settings table), then passed down. Every limit is here, by name, with its
/// default; how the server meets the network (address, TLS, proxies, connection limits) is the
/// Web module's `ServerConfiguration`.
public struct HearthConfiguration: Sendable {
    /// Where `hearth.sqlite` lives.
    public var dataDirectory: URL
    /// The URL people reach the server at, used in setup, invite and link URLs. Nil: worked out
    /// at start-up from the listening address.
    public var publicURL: String?
    /// Argon2id parameters and the hashing pool.
    public var hashing = PasswordHasher.Configuration()
    /// Sign-in and registration throttles.
    public var throttles = ThrottlePolicies()
    /// Input limits.
    public var limits = Limits()
    /// Messaging limits.
    public var relay = RelayLimits()
    /// Moderation limits.
    public var moderation = ModerationLimits()
    /// Past this age (seconds) the dashboard warns that the last good backup is old (two days).
    public var backupWarningAge: TimeInterval = 2 * 86_400
    /// How long sessions (signed-in devices) last.
    public var sessions = SessionLimits()
    /// How long a password reset link made in the admin panel works, in seconds (a day).
    public var passwordResetLifetime: TimeInterval = 86_400
    /// Web Push: what goes, where, and how long it is kept trying.
    public var push = PushSettings()
    /// Outgoing webhooks: whom they may call and how long they keep trying.
    public var outgoingWebhooks = OutgoingWebhookSettings()
    /// Voice and video calls: ringing, signalling limits, TURN.
    public var calls = CallSettings()

    /// A configuration with defaults for everything but the data dir.
    public init(dataDirectory: URL) {
        self.dataDirectory = dataDirectory
    }

    /// Named input limits.
    public struct Limits: Sendable {
        /// Largest JSON body accepted on the auth routes (register, login, setup).
        public var authBodyBytes = 64 * 1024
        /// Shortest password, in characters.
        public var passwordMinCharacters = 10
        /// Longest password, in UTF-8 bytes.
        public var passwordMaxBytes = 1024
        /// Longest device name, in characters.
        public var deviceNameMaxCharacters = 64
        /// Most uses one invite may allow.
        public var inviteMaxUses = 1000
        /// Longest an invite may stay valid, in seconds (one year).
        public var inviteMaxLifetime: TimeInterval = 365 * 86_400
        /// An invite's lifetime when none is given, in seconds (seven days).
        public var inviteDefaultLifetime: TimeInterval = 7 * 86_400
        /// How long a device-link QR code works, in seconds.
        public var linkCodeLifetime: TimeInterval = 600
        /// How long an admin's recovery sign-in link works, in seconds.
        public var recoveryLinkLifetime: TimeInterval = 900
        /// Devices one user may have signed in (or waiting for approval) at once.
        public var devicesPerUser = 10
        /// Largest attachment, in bytes.
        public var attachmentMaxBytes = 25 * 1024 * 1024
        /// Bytes of attachments one user may store.
        public var attachmentQuotaBytes: Int64 = 1024 * 1024 * 1024
        /// Attachment content types accepted (checked against the file's first bytes).
        public var attachmentTypes: Set<String> = [
            "image/jpeg", "image/png", "image/gif", "image/webp", "image/heic", "image/heif", "audio/mpeg", "audio/ogg",
            "audio/mp4", "audio/aac", "audio/x-m4a", "audio/webm", "audio/wav", "video/mp4", "video/webm", "video/ogg",
            "video/quicktime", "application/pdf", "text/plain", "text/csv",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "application/vnd.openxmlformats-officedocument.presentationml.presentation",
            "application/vnd.oasis.opendocument.text", "application/vnd.oasis.opendocument.spreadsheet",
            "application/vnd.oasis.opendocument.presentation",
        ]
        /// Messages one incoming webhook may post a minute.
        public var webhookMessagesPerMinute = 30
        /// Largest request an incoming webhook takes, in bytes.
        public var webhookBodyBytes = 64 * 1024
        /// Incoming webhooks one room may have.
        public var webhooksPerRoom = 20
        /// Largest image a user may choose as their avatar, in bytes.
        public var avatarMaxBytes = 5 * 1024 * 1024
        /// Longest display name, in characters.
        public var displayNameMaxCharacters = 64
        /// Seconds an upload may stay unshared before it is removed.
        public var attachmentOrphanGrace: TimeInterval = 24 * 3600

        /// The defaults.
        public init() {}
    }

    /// Web Push (docs/PROTOCOL.md, "Push notifications").
    public struct PushSettings: Sendable {
        /// How much a notification says, widest first: the sender and the text, the sender only,
        /// or only "New message". In the last two the text never leaves the server.
        public enum Preview: String, Sendable, CaseIterable, Comparable {
            case full, sender, none

            /// Narrower is greater: `max` of the server's and the user's choice is what goes.
            public static func < (lhs: Self, rhs: Self) -> Bool {
                allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
            }
        }

        /// How long a push service keeps a push for an offline device, and how long the queue
        /// keeps trying one, in seconds (a day).
        public var timeToLive: TimeInterval = 86_400
        /// Seconds one request to a push service may take, connecting included.
        public var timeout: TimeInterval = 10
        /// Pushes the queue holds at most; past it new ones are dropped (and logged).
        public var queueLimit = 10_000
        /// Requests to push services in flight at once.
        public var concurrency = 8
        /// Subscriptions one device may have.
        public var subscriptionsPerDevice = 10
        /// Whether `http://` endpoints on a loopback address are accepted (tests with a local
        /// push service); otherwise only `https://`.
        public var allowLoopbackHTTP = false
        /// Whom push services may contact about this server (VAPID `sub`): a `mailto:` or
        /// `https:` URL. Nil: the public URL, if it is https, else `mailto:hearth@localhost`.
        public var subject: String?
        /// How much notifications say at most; the panel and each user may narrow it.
        public var preview: Preview = .full

        /// The defaults.
        public init() {}
    }

    /// Voice and video calls (docs/ADMIN.md, *Calls*).
    public struct CallSettings: Sendable {
        /// Seconds a ring goes unanswered before the call ends as missed.
        public var ringTimeout: TimeInterval = 45
        /// Devices in one call at most (a mesh: each pair one peer connection).
        public var maxParticipants = 4
        /// ICE candidates one device may send a second.
        public var candidatesPerSecond = 50
        /// Largest `rtc` frame (an SDP offer or answer), in bytes.
        public var signalBytes = 64 * 1024
        /// TURN (or STUN) server URIs handed to browsers, e.g. `turn:home.example.org:3478`.
        public var turnURIs: [String] = []
        /// The secret shared with the TURN server (coturn's `static-auth-secret`); nil: no
        /// credentials are minted.
        public var turnSecret: String?
        /// How long a minted TURN credential works, in seconds.
        public var turnCredentialLifetime: TimeInterval = 12 * 3600

        /// The defaults.
        public init() {}
    }

    /// Outgoing webhooks (docs/ADMIN.md, *Outgoing webhooks*).
    public struct OutgoingWebhookSettings: Sendable {
        /// Tries per delivery, the first included, before it is given up.
        public var attempts = 8
        /// Seconds before the first retry; each next one waits four times longer, at most 6 hours.
        public var firstRetry: TimeInterval = 10
        /// Seconds one delivery may take, connecting included.
        public var timeout: TimeInterval = 10
        /// Outgoing webhooks one room may have.
        public var perRoom = 5
        /// Deliveries in flight at once.
        public var concurrency = 4
        /// Private addresses, networks or host names outgoing webhooks may call (Home Assistant
        /// on the home network), besides those the admin panel allows.
        public var allowPrivate: [String] = []

        /// The defaults.
        public init() {}
    }

    /// Session lifetimes (OWASP ASVS 5.0 §7.3): a device's session ends after `idleTimeout`
    /// without use or `maxAge` after sign-in, whichever comes first; it then signs in again.
    public struct SessionLimits: Sendable {
        /// A chat session unused for this many seconds ends (30 days). A device connected
        /// over the WebSocket is in use.
        public var idleTimeout: TimeInterval = 30 * 86_400
        /// A chat session ends this many seconds after sign-in, used or not (a year).
        public var maxAge: TimeInterval = 365 * 86_400
        /// An admin panel session ends after this many seconds without a request (30 minutes).
        public var adminIdleTimeout: TimeInterval = 30 * 60
        /// An admin panel session ends this many seconds after sign-in (12 hours).
        public var adminMaxAge: TimeInterval = 12 * 3600

        /// The defaults.
        public init() {}
    }

    /// Named limits of the message relay.
    public struct RelayLimits: Sendable {
        /// Largest WebSocket frame a client may send, in bytes.
        public var maxFrameBytes = 64 * 1024
        /// Longest message text, in UTF-8 bytes.
        public var maxBodyBytes = 16 * 1024
        /// Longest client id of a `send`.
        public var maxClientIDLength = 64
        /// Attachments one message may carry.
        public var attachmentsPerMessage = 10
        /// Messages one user may send per minute, all devices together.
        public var messagesPerMinute = 120
        /// WebSockets one device (one session token) may hold open at once; the newest over it is
        /// refused with close code 4029.
        public var socketsPerDevice = 8
        /// WebSockets one user may hold open at once, all devices together (4029 past it).
        public var socketsPerUser = 32
        /// Frames of any kind one connection may send per second (twice that in a burst).
        public var framesPerSecond = 50
        /// Rooms one user may be in.
        public var roomsPerUser = 500
        /// Members one room may have.
        public var membersPerRoom = 1000
        /// Longest group name, in characters.
        public var roomNameMaxCharacters = 64
        /// Frames waiting for one socket before the device is cut off and told to `sync`.
        public var outboxFrames = 2048
        /// Bytes waiting for one socket before the device is cut off and told to `sync`.
        public var outboxBytes = 4 * 1024 * 1024
        /// Milliseconds between the starts of two message commits at the least: what arrives
        /// meanwhile shares the next transaction. 0 commits as soon as the last one is done.
        public var commitIntervalMilliseconds = 5
        /// Messages read from the database per page of a `sync`.
        public var syncPageSize = 256
        /// Most messages one history request returns.
        public var historyMaxLimit = 200
        /// New messages the search index takes in one go (about once a second, and before each
        /// search until none is left).
        public var searchIndexBatch = 1000
        /// Seconds between relayed `typing` events from one user in one room.
        public var typingInterval: TimeInterval = 3
        /// Seconds between WebSocket pings; a client that misses a pong for this long is dropped.
        public var pingInterval: TimeInterval = 30

        /// The defaults.
        public init() {}
    }

    /// Named limits of moderation: rules, reports and the review queue.
    public struct ModerationLimits: Sendable {
        /// Rules the server may have.
        public var maxRules = 5000
        /// Longest `word`, `link` or `attachment_type` pattern, in characters.
        public var patternMaxCharacters = 100
        /// Longest `regex` pattern, in characters (longer ones cost more per message).
        public var regexMaxCharacters = 200
        /// Memory, in KiB, that RE2 may use to compile and run one regex rule, and all of them
        /// together in one set (its program and DFA cache); a rule or rule set over it is refused.
        public var regexMemoryKiB = 8192
        /// Highest `N` of a `rate` rule `N/60s` (the window keeps N times per user).
        public var rateMaxCount = 1000
        /// Longest window of a `rate` rule, in seconds.
        public var rateMaxWindow: TimeInterval = 86_400
        /// Longest message a rule shows a blocked sender, in characters.
        public var ruleMessageMaxCharacters = 200
        /// Longest report reason or moderator note, in characters.
        public var reasonMaxCharacters = 500
        /// Longest mute, in seconds (30 days).
        public var muteMaxDuration: TimeInterval = 30 * 86_400
        /// Messages shown before and after a message in the review queue.
        public var contextMessages = 3
        /// Most items or audit entries one page returns.
        public var pageMaxLimit = 200

        /// ``regexMemoryKiB`` in bytes.
        var regexMemoryBytes: Int { regexMemoryKiB * 1024 }

        /// The defaults.
        public init() {}
    }

    /// The throttles on sign-in, registration and setup.
    public struct ThrottlePolicies: Sendable {
        /// Failed sign-ins for one account from one address.
        public var loginPerAccount = ThrottlePolicy(burst: 5)
        /// Failed sign-ins from one address, whatever the account (a household shares one).
        public var loginPerAddress = ThrottlePolicy(burst: 20)
        /// Registration and setup attempts from one address.
        public var registerPerAddress = ThrottlePolicy(burst: 5)
        /// Link codes one user creates.
        public var linkPerUser = ThrottlePolicy(burst: 10)
        /// Link claims from one address.
        public var linkClaimPerAddress = ThrottlePolicy(burst: 10)

        /// The defaults.
        public init() {}
    }
}

import Credentials
import Foundation

/// Everything a Hearth process is configured with: built once by the CLI from flags and
/// `HEARTH_*` variables, then passed down. Every limit is here, by name, with its default.
public struct HearthConfiguration: Sendable {
    /// Where `hearth.sqlite` lives.
    public var dataDirectory: URL
    /// Address `serve` listens on; `0.0.0.0` means every interface (phones on the home network).
    public var host: String = "0.0.0.0"
    /// Port `serve` listens on; 0 picks a free one.
    public var port: Int = 8080
    /// The URL people reach the server at, used in setup, invite and link URLs. Nil: worked out
    /// at start-up from the listening address.
    public var publicURL: String?
    /// Addresses of reverse proxies whose `X-Forwarded-For` is believed.
    public var trustedProxies: [String] = []
    /// Argon2id parameters and the hashing pool.
    public var hashing = PasswordHasher.Configuration()
    /// Sign-in and registration throttles.
    public var throttles = ThrottlePolicies()
    /// Input limits.
    public var limits = Limits()

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

        /// The defaults.
        public init() {}
    }
}

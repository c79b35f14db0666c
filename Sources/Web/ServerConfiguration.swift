import Foundation
import Services

/// How `hearth serve` meets the network: where it listens, TLS, which proxies it believes, and
/// the limits on connections. Built by the CLI from flags and `HEARTH_*` variables.
public struct ServerConfiguration: Sendable {
    /// Address `serve` listens on; `0.0.0.0` means every interface (phones on the home network).
    public var host = "0.0.0.0"
    /// Port `serve` listens on; 0 picks a free one.
    public var port = 8080
    /// Addresses of reverse proxies whose `X-Forwarded-For` is believed.
    public var trustedProxies: [String] = []
    /// HTTPS and WSS served directly, without a proxy; nil serves plain HTTP.
    public var tls: TLSFiles?
    /// Connection limits against floods and slow clients.
    public var connections = ConnectionLimits()
    /// Who may scrape `/metrics`.
    public var metrics = MetricsAccess()

    /// Who may scrape `/metrics`: clients at these addresses (IPv4 or IPv6 addresses, or
    /// networks such as `192.168.1.0/24` or `fd00::/8`; behind a reverse proxy, the client's address as the
    /// trusted proxy reports it), and anyone with the bearer token.
    public struct MetricsAccess: Sendable {
        public var allowed: [String] = ["127.0.0.1", "::1"]
        /// Read from `HEARTH_METRICS_TOKEN_FILE`; nil: no token works.
        public var token: String?

        public init() {}

        /// Whether `address` is one of ``allowed``, or in one of its networks.
        public func allows(_ address: String) -> Bool {
            guard let address = IPAddress(address) else { return false }
            return allowed.contains { IPNetwork($0)?.contains(address) == true }
        }

        /// Whether `entry` is an address or a network this setting understands.
        public static func isValid(_ entry: String) -> Bool { IPNetwork(entry) != nil }
    }

    /// The defaults.
    public init() {}

    /// Whether the browser reaches the server over HTTPS (served here, or by a proxy in front of
    /// `publicURL`): then cookies are `Secure` and carry the `__Host-` prefix.
    public func servesHTTPS(publicURL: String?) -> Bool {
        tls != nil || publicURL?.lowercased().hasPrefix("https://") == true
    }

    /// Limits on connections: how many one address may hold, and how long a client may take.
    public struct ConnectionLimits: Sendable {
        /// Open connections (HTTP and WebSocket together) one IP address may hold; trusted
        /// proxies are exempt.
        public var perAddress = 256
        /// Seconds from a request's first byte until its whole head (request line and headers)
        /// has arrived.
        public var headerTimeout: TimeInterval = 10
        /// Longest pause, in seconds, while a request body is arriving.
        public var bodyTimeout: TimeInterval = 30
        /// Seconds an open HTTP connection may wait for its next request (WebSockets excepted:
        /// they have pings).
        public var keepAliveTimeout: TimeInterval = 60

        /// The defaults.
        public init() {}
    }

    /// PEM files of the certificate chain and private key `serve` speaks TLS with.
    public struct TLSFiles: Sendable {
        /// The certificate chain, leaf first (Let's Encrypt's `fullchain.pem`).
        public var certificate: String
        /// The private key (`privkey.pem`).
        public var key: String

        public init(certificate: String, key: String) {
            self.certificate = certificate
            self.key = key
        }
    }
}

/// Who is on the other end of a request: what sign-in throttles and the device list record.
public struct Client: Sendable, Equatable {
    /// The client's IP address (after trusted-proxy resolution), if known.
    public var ip: String?
    /// The `User-Agent` header, if any.
    public var userAgent: String?

    /// Describes a client.
    public init(ip: String?, userAgent: String?) {
        self.ip = ip
        self.userAgent = userAgent
    }

    /// A client that is the local command line.
    public static let commandLine = Client(ip: nil, userAgent: "hearth CLI")

    /// The key throttles use for this client's address.
    var throttleAddress: String { ip ?? "unknown" }
}

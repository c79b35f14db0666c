import ArgumentParser
import Foundation
import Hummingbird
import Logging
import NIOCore
import Services
import Storage
import Web

/// `hearth serve`: runs the server until SIGTERM or SIGINT.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the server.",
        discussion: """
            While no admin exists, prints a one-time setup link (and a QR code of it) that opens the \
            first-admin form in a browser. Stops gracefully on SIGTERM or SIGINT. Limits, timeouts and \
            session lifetimes are HEARTH_* environment variables, listed in docs/ADMIN.md.
            """)

    @OptionGroup var options: GlobalOptions

    @Option(help: "Address to listen on (default: $HEARTH_HOST, else 0.0.0.0: every interface).")
    var host: String?

    @Option(help: "Port to listen on; 0 picks a free one (default: $HEARTH_PORT, else 8080).")
    var port: Int?

    @Option(
        help:
            "The URL people reach the server at, e.g. https://chat.example.org (default: $HEARTH_PUBLIC_URL, else http://<this machine's address>:<port>)."
    )
    var publicURL: String?

    @Option(
        name: .customLong("trusted-proxy"),
        help:
            "A reverse proxy's IP address whose X-Forwarded-For is believed; repeat for several (default: $HEARTH_TRUSTED_PROXIES, comma-separated)."
    )
    var trustedProxies: [String] = []

    @Option(
        help: ArgumentHelp(
            "PEM certificate chain to serve HTTPS and WSS with, e.g. Let's Encrypt's fullchain.pem (default: $HEARTH_TLS_CERT). Needs --tls-key.",
            valueName: "file"))
    var tlsCert: String?

    @Option(
        help: ArgumentHelp(
            "PEM private key of --tls-cert, e.g. privkey.pem (default: $HEARTH_TLS_KEY). Both files are read again when they change.",
            valueName: "file"))
    var tlsKey: String?

    @Option(
        name: .customLong("turn-uri"),
        help: ArgumentHelp(
            "A TURN server for calls across the internet, e.g. turn:chat.example.org:3478; repeat for several (default: $HEARTH_TURN_URI, comma-separated).",
            valueName: "uri"))
    var turnURIs: [String] = []

    @Option(
        name: .customLong("turn-secret"),
        help: ArgumentHelp(
            "A file holding the secret shared with the TURN server (coturn's static-auth-secret); time-limited credentials are minted with it (default: $HEARTH_TURN_SECRET_FILE).",
            valueName: "file"))
    var turnSecret: String?

    func run() async throws {
        let serveFlags = [
            "--host": host, "--port": port.map(String.init), "--public-url": publicURL,
            "--trusted-proxy": trustedProxies.isEmpty ? nil : trustedProxies.joined(separator: ","),
            "--tls-cert": tlsCert, "--tls-key": tlsKey,
            "--turn-uri": turnURIs.isEmpty ? nil : turnURIs.joined(separator: ","), "--turn-secret": turnSecret,
        ].compactMapValues { $0 }
        let settings = try await command { try options.configuration(serveFlags: serveFlags) }
        let (configuration, server) = (settings.hearth, settings.server)
        let logger = options.bootstrapLogging(settings, defaultLevel: .info)
        // One server per data dir, locked before its database opens; `hearth restore` takes the same lock.
        let lock = try await command { try DataDirectoryLock(configuration.dataDirectory) }
        defer { withExtendedLifetime(lock) {} }
        defer { ServerPIDFile.remove(configuration.dataDirectory) }
        // The metrics backend first: swift-metrics binds each counter to it when the counter is made.
        let metrics = MetricsExport.bootstrap()
        let hub = RelayHub(limits: configuration.relay, logger: logger)
        let services = try await command { try AppServices(configuration: configuration, live: hub, logger: logger) }
        let certificates = try await command { try HearthApp.certificates(server) }
        let app = HearthApp(services: services, hub: hub, server: server, metrics: metrics)
        do {
            try await app.run(logger: logger, certificates: certificates) { channel in
                let port = channel.localAddress?.port ?? server.port
                let scheme = server.tls == nil ? "http" : "https"
                let url = configuration.publicURL ?? "\(scheme)://\(Self.reachableHost(server.host)):\(port)"
                await Self.announce(services: services, url: url, logger: logger)
            }
        } catch let error as IOError where error.errnoCode == EADDRINUSE {
            throw CLIError(
                "Port \(server.port) on \(server.host) is already in use by another program: "
                    + "stop it, or choose another port with --port.")
        } catch let error as IOError where error.errnoCode == EACCES {
            throw CLIError(
                "This user may not listen on port \(server.port): use a port above 1023, or see README "
                    + "*HTTPS* for port 443.")
        } catch {
            throw CLIError("The server stopped: \(error)")
        }
        logger.info("stopped")
    }

    /// Prints where the server is and, while no admin exists, the setup link and its QR code.
    static func announce(services: AppServices, url: String, logger: Logger) async {
        ServerPIDFile.write(services.configuration.dataDirectory)
        do {
            try await services.recordPublicURL(url)
            // The Web Push key pair is made at the first start, not by the first browser to ask.
            _ = try await services.push.publicKey()
            var lines = ["Hearth is running at \(url) (data: \(services.database.url.path))"]
            if let token = try await services.registration.prepareSetup() {
                let setupURL = "\(url)/setup?token=\(token)"
                lines += [
                    "", "No admin account exists yet. Open this link in a browser to create one:", "  \(setupURL)",
                    try Format.qr(setupURL),
                    "The link works once, and only until an admin exists (`hearth user add NAME --admin` also does it).",
                ]
            }
            FileHandle.standardOutput.write(Data((lines.joined(separator: "\n") + "\n").utf8))
        } catch {
            logger.error("could not prepare first-admin setup: \(error)")
        }
    }

    /// A host name other devices can use: this machine's LAN address when listening on every interface.
    static func reachableHost(_ host: String) -> String {
        guard host == "0.0.0.0" || host == "::" || host.isEmpty else {
            return host.contains(":") ? "[\(host)]" : host
        }
        var addresses: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&addresses) == 0, let first = addresses else { return "localhost" }
        defer { freeifaddrs(addresses) }
        for pointer in sequence(first: first, next: { $0.pointee.ifa_next }) {
            let interface = pointer.pointee
            guard let address = interface.ifa_addr,
                address.pointee.sa_family == UInt8(AF_INET) || address.pointee.sa_family == sa_family_t(AF_INET),
                interface.ifa_flags & UInt32(IFF_LOOPBACK) == 0, interface.ifa_flags & UInt32(IFF_UP) != 0
            else { continue }
            var buffer = [CChar](repeating: 0, count: Int(NI_MAXHOST))
            if getnameinfo(
                address, socklen_t(MemoryLayout<sockaddr_in>.size), &buffer, socklen_t(buffer.count), nil, 0,
                NI_NUMERICHOST) == 0
            {
                return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            }
        }
        return "localhost"
    }
}

import Foundation
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import Prometheus
import ServiceLifecycle
import Services
import Storage
import UnixSignals

/// Hearth's HTTP application: its services, the relay's socket side they announce to, and how
/// it meets the network; it builds the routes, middleware and embedded assets.
public struct HearthApp: Sendable {
    public let services: AppServices
    public let hub: RelayHub
    public let server: ServerConfiguration
    /// The registry `/metrics` writes (``MetricsExport/bootstrap()``); nil serves no `/metrics`.
    public let metrics: PrometheusCollectorRegistry?

    public init(
        services: AppServices, hub: RelayHub, server: ServerConfiguration, metrics: PrometheusCollectorRegistry? = nil
    ) {
        self.services = services
        self.hub = hub
        self.server = server
        self.metrics = metrics
    }

    /// Whether browsers reach this server over HTTPS.
    var servesHTTPS: Bool { server.servesHTTPS(publicURL: services.configuration.publicURL) }

    /// The router with every route and middleware.
    public func router() -> Router<AppRequestContext> {
        let configuration = services.configuration
        let authenticator = SessionAuthenticator(sessions: services.sessions, secure: servesHTTPS)
        let assets = Assets()

        let router = Router(context: AppRequestContext.self)
        router.add(middleware: ClientAddressMiddleware(trustedProxies: Set(server.trustedProxies)))
        router.add(middleware: RequestLogMiddleware())
        router.add(middleware: SecurityHeadersMiddleware(servesHTTPS: servesHTTPS))
        let templates = PageTemplates()
        router.add(middleware: ErrorMiddleware(templates: templates))
        let originCheck = Self.originCheck(configuration)
        router.add(middleware: originCheck)
        router.add(middleware: AssetMiddleware(assets: assets))

        let services = services
        router.get("healthz") { _, _ -> Response in
            try await services.checkHealth()
            return try .json(["status": "ok"])
        }
        for page in ["/", "/invite/{code}", "/link/{code}"] {
            router.get(RouterPath(page)) { request, _ in
                try Self.page404(assets.response(for: "index.html", request: request))
            }
        }
        router.get("setup") { request, _ in try Self.page404(assets.response(for: "setup.html", request: request)) }
        if let metrics {
            MetricsController(services: services, hub: hub, registry: metrics, access: server.metrics)
                .addRoutes(to: router)
        }

        AdminController(
            services: services, templates: templates, secure: servesHTTPS
        ).addRoutes(to: router)

        let api = router.group("api/v1")
        let authBodyLimit = configuration.limits.authBodyBytes
        AuthController(
            registration: services.registration, sessions: services.sessions, authenticator: authenticator,
            bodyLimit: authBodyLimit
        ).addRoutes(to: api)
        RoomsController(rooms: services.rooms, authenticator: authenticator).addRoutes(to: api)
        SearchController(rooms: services.rooms, authenticator: authenticator).addRoutes(to: api)
        DevicesController(sessions: services.sessions, authenticator: authenticator).addRoutes(to: api)
        LinkController(
            linking: services.linking, authenticator: authenticator, bodyLimit: authBodyLimit,
            publicURL: { await services.publicURL() }
        ).addRoutes(to: api)
        AttachmentsController(attachments: services.attachments, authenticator: authenticator).addRoutes(to: api)
        ProfileController(
            profiles: services.profiles, attachments: services.attachments, authenticator: authenticator
        ).addRoutes(to: api)
        PushController(push: services.push, authenticator: authenticator).addRoutes(to: api)
        WebhooksController(
            webhooks: services.webhooks, attachments: services.attachments, authenticator: authenticator,
            limits: configuration.limits,
            publicURL: { await services.publicURL() }
        ).addRoutes(to: api)
        OutgoingWebhooksController(webhooks: services.outgoingWebhooks, authenticator: authenticator)
            .addRoutes(to: api)
        CallsController(calls: services.calls, authenticator: authenticator).addRoutes(to: api)
        InvitesController(
            invites: services.invites, authenticator: authenticator, inviteURL: { await services.inviteURL($0) }
        ).addRoutes(to: api)
        ModerationController(
            moderation: services.moderation, accounts: services.accounts, authenticator: authenticator
        ).addRoutes(to: api)
        webSocketEndpoint().addRoute(to: router)
        return router
    }

    /// The application listening on the configured host and port: HTTP (HTTPS with
    /// `certificates`) and the WebSocket, every connection behind the connection guard.
    public func application(
        logger: Logger, certificates: TLSCertificates? = nil,
        onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
        let router = router()
        let originCheck = Self.originCheck(services.configuration)
        let upgradeResponder = router.buildResponder()
        let registry = ConnectionRegistry(
            limit: server.connections.perAddress, exempt: Set(server.trustedProxies))
        let (endpoint, maxFrameBytes, limits) = (
            webSocketEndpoint(), services.configuration.relay.maxFrameBytes, server.connections
        )
        let http = HTTPServerBuilder { responder in
            HearthChannel(
                base: RelayUpgradeChannel(
                    responder: responder, upgradeResponder: upgradeResponder, endpoint: endpoint,
                    maxFrameBytes: maxFrameBytes),
                registry: registry, limits: limits, certificates: certificates, originCheck: originCheck,
                logger: logger)
        }
        return Application(
            router: router,
            server: http,
            configuration: .init(address: .hostname(server.host, port: server.port), serverName: "Hearth"),
            onServerRunning: onServerRunning,
            logger: logger)
    }

    /// Runs the server until SIGTERM or SIGINT, then shuts down in order: sockets first (each
    /// closed with 1001 once its outbox is written), then the HTTP server.
    public func run(
        logger: Logger, certificates: TLSCertificates? = nil,
        onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }
    ) async throws {
        try await serviceGroup(
            logger: logger, signals: [.sigterm, .sigint], certificates: certificates, onServerRunning: onServerRunning
        ).run()
    }

    /// Reads the configured TLS certificate and key; nil when TLS is off. Throws an error
    /// that names the file and what is wrong with it.
    public static func certificates(_ server: ServerConfiguration) throws -> TLSCertificates? {
        try server.tls.map(TLSCertificates.init)
    }

    /// The server and the relay as one service group. Services stop in reverse order, so the
    /// relay (listed last) closes its sockets before the HTTP server stops, and the WAL
    /// checkpoints (listed first) go on until everything else has stopped.
    public func serviceGroup(
        logger: Logger, signals: [UnixSignal], certificates: TLSCertificates? = nil,
        onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }
    ) throws -> ServiceGroup {
        let app = application(logger: logger, certificates: certificates, onServerRunning: onServerRunning)
        var watcher: [any Service] = []
        if let certificates { watcher.append(PeriodicService.certificateWatcher(certificates, logger: logger)) }
        return ServiceGroup(
            configuration: .init(
                services: [
                    PeriodicService.checkpoints(try services.checkpointer(), logger: logger),
                    app, BackupService(backups: services.backups),
                    PeriodicService.housekeeping(sessions: services.sessions, attachments: services.attachments),
                    PushService(delivery: services.pushDelivery),
                    WebhookDeliveryService(webhooks: services.outgoingWebhooks),
                    PeriodicService.searchIndexing(rooms: services.rooms, logger: logger),
                ] + watcher + [RelayService(hub: hub, relay: services.relay)],
                gracefulShutdownSignals: signals,
                logger: logger))
    }

    /// The relay's WebSocket: its route, and what it puts on a socket after the upgrade.
    func webSocketEndpoint() -> WebSocketEndpoint {
        WebSocketEndpoint(
            relay: services.relay, hub: hub, logger: services.logger,
            authenticator: SessionAuthenticator(sessions: services.sessions, secure: servesHTTPS),
            originCheck: Self.originCheck(services.configuration))
    }

    private static func page404(_ response: Response?) throws -> Response {
        guard let response else { throw APIError(status: .notFound) }
        return response
    }

    /// The check that a browser request comes from this server's own pages: its `Host`, or the
    /// public URL's origin.
    static func originCheck(_ configuration: HearthConfiguration) -> OriginCheckMiddleware {
        OriginCheckMiddleware(publicOrigin: configuration.publicURL.flatMap(origin(of:)))
    }

    /// `scheme://host[:port]` of a URL.
    static func origin(of url: String) -> String? {
        guard let components = URLComponents(string: url), let scheme = components.scheme, let host = components.host
        else { return nil }
        return "\(scheme)://\(host)" + (components.port.map { ":\($0)" } ?? "")
    }
}

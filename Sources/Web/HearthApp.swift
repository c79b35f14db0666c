import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import Services
import UnixSignals

/// Builds Hearth's HTTP application from its services: routes, middleware and embedded assets.
public enum HearthApp {
    /// The router with every route and middleware.
    public static func router(services: AppServices) -> Router<AppRequestContext> {
        let configuration = services.configuration
        let authenticator = SessionAuthenticator(
            accounts: services.accounts, secure: configuration.publicURL?.lowercased().hasPrefix("https://") == true)
        let assets = Assets()

        let router = Router(context: AppRequestContext.self)
        router.add(middleware: ClientAddressMiddleware(trustedProxies: Set(configuration.trustedProxies)))
        router.add(middleware: RequestLogMiddleware())
        router.add(middleware: SecurityHeadersMiddleware())
        router.add(middleware: ErrorMiddleware())
        let originCheck = OriginCheckMiddleware(publicOrigin: configuration.publicURL.flatMap(origin(of:)))
        router.add(middleware: originCheck)
        router.add(middleware: AssetMiddleware(assets: assets))

        router.get("healthz") { _, _ -> Response in
            try await services.checkHealth()
            return try .json(["status": "ok"])
        }
        for page in ["/", "/invite/{code}", "/link/{code}"] {
            router.get(RouterPath(page)) { request, _ in
                try page404(assets.response(for: "index.html", request: request))
            }
        }
        router.get("setup") { request, _ in try page404(assets.response(for: "setup.html", request: request)) }

        AdminController(
            services: services, secure: configuration.publicURL?.lowercased().hasPrefix("https://") == true
        ).addRoutes(to: router)

        let api = router.group("api/v1")
        AuthController(services: services, authenticator: authenticator).addRoutes(to: api)
        RoomsController(services: services, authenticator: authenticator).addRoutes(to: api)
        DevicesController(services: services, authenticator: authenticator).addRoutes(to: api)
        LinkController(services: services, authenticator: authenticator).addRoutes(to: api)
        AttachmentsController(services: services, authenticator: authenticator).addRoutes(to: api)
        ModerationController(services: services, authenticator: authenticator).addRoutes(to: api)
        WebSocketEndpoint(services: services, authenticator: authenticator, originCheck: originCheck)
            .addRoute(to: router)
        return router
    }

    /// The application listening on the configured host and port, HTTP and WebSocket.
    public static func application(
        services: AppServices, logger: Logger,
        onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
        let router = router(services: services)
        let relay = services.configuration.relay
        let originCheck = OriginCheckMiddleware(publicOrigin: services.configuration.publicURL.flatMap(origin(of:)))
        return Application(
            router: router,
            server: .http1WebSocketUpgrade(
                webSocketRouter: router,
                configuration: .init(
                    http1: .init(additionalChannelHandlers: [UpgradeRefusalHandler(originCheck: originCheck)]),
                    ws: .init(
                        maxFrameSize: relay.maxFrameBytes,
                        autoPing: .enabled(timePeriod: .milliseconds(Int64(relay.pingInterval * 1000)))))),
            configuration: .init(
                address: .hostname(services.configuration.host, port: services.configuration.port),
                serverName: "Hearth"),
            onServerRunning: onServerRunning,
            logger: logger)
    }

    /// Runs the server until SIGTERM or SIGINT, then shuts down in order: sockets first (each
    /// closed with 1001 once its outbox is written), then the HTTP server.
    public static func run(
        services: AppServices, logger: Logger,
        onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }
    ) async throws {
        try await serviceGroup(
            services: services, logger: logger, signals: [.sigterm, .sigint], onServerRunning: onServerRunning
        ).run()
    }

    /// The server and the relay as one service group. Services stop in reverse order, so the
    /// relay (listed last) closes its sockets before the HTTP server stops.
    public static func serviceGroup(
        services: AppServices, logger: Logger, signals: [UnixSignal],
        onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }
    ) -> ServiceGroup {
        let app = application(services: services, logger: logger, onServerRunning: onServerRunning)
        return ServiceGroup(
            configuration: .init(
                services: [
                    app, BackupService(backups: services.backups),
                    HousekeepingService(attachments: services.attachments), RelayService(hub: services.relay.hub),
                ],
                gracefulShutdownSignals: signals,
                logger: logger))
    }

    private static func page404(_ response: Response?) throws -> Response {
        guard let response else { throw APIError(status: .notFound) }
        return response
    }

    /// `scheme://host[:port]` of a URL.
    static func origin(of url: String) -> String? {
        guard let components = URLComponents(string: url), let scheme = components.scheme, let host = components.host
        else { return nil }
        return "\(scheme)://\(host)" + (components.port.map { ":\($0)" } ?? "")
    }
}

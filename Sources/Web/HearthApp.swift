import Foundation
import Hummingbird
import Logging
import NIOCore
import Services

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
        router.add(middleware: OriginCheckMiddleware(publicOrigin: configuration.publicURL.flatMap(origin(of:))))
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

        let api = router.group("api/v1")
        AuthController(services: services, authenticator: authenticator).addRoutes(to: api)
        return router
    }

    /// The application listening on the configured host and port.
    public static func application(
        services: AppServices, logger: Logger,
        onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
        Application(
            router: router(services: services),
            configuration: .init(
                address: .hostname(services.configuration.host, port: services.configuration.port),
                serverName: "Hearth"),
            onServerRunning: onServerRunning,
            logger: logger)
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

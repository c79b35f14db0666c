import Foundation
import Hummingbird

/// Refuses state-changing requests that a browser sent from another site — to the API, the admin
/// panel's forms and the password reset page: an `Origin` header must name this server (its
/// `Host`, or the configured public URL).
struct OriginCheckMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext

    /// The public URL's origin (`scheme://host[:port]`), if configured.
    let publicOrigin: String?

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    )
        async throws -> Response
    {
        let path = request.uri.path
        if [.post, .put, .patch, .delete].contains(request.method),
            path.hasPrefix("/api/") || path.hasPrefix("/admin") || path.hasPrefix("/reset/"),
            let origin = request.headers[.origin], !isSameOrigin(origin, request: request)
        {
            throw APIError(
                .forbidden, code: "origin_mismatch", message: "Requests from another site are not accepted.")
        }
        return try await next(request, context)
    }

    func isSameOrigin(_ origin: String, request: Request) -> Bool {
        isSameOrigin(origin, authority: request.head.authority)
    }

    /// Whether `origin` names this server, reached at `authority` (the `Host`).
    func isSameOrigin(_ origin: String, authority: String?) -> Bool {
        if let publicOrigin, origin.lowercased() == publicOrigin.lowercased() { return true }
        guard let host = authority,
            let components = URLComponents(string: origin), let scheme = components.scheme,
            let originHost = components.host
        else { return false }
        let authority = components.port.map { "\(originHost):\($0)" } ?? originHost
        return ["http", "https"].contains(scheme) && authority.lowercased() == host.lowercased()
    }
}

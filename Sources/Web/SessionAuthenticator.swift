import Foundation
import Hummingbird
import Services

/// Finds the session behind a request: `Authorization: Bearer TOKEN` for API clients, the
/// HttpOnly session cookie for the browser.
struct SessionAuthenticator: Sendable {
    /// The browser session cookie's name over plain HTTP.
    static let cookieName = "hearth_session"
    /// How long the browser keeps the cookie, in seconds (400 days, the browsers' own cap).
    static let cookieLifetime = 400 * 86_400

    let sessions: Sessions
    /// Whether the server is reached over HTTPS, so cookies are marked Secure.
    let secure: Bool

    /// The session cookie's name: under HTTPS with the `__Host-` prefix, which browsers accept
    /// only from a secure origin, for the whole site (`Path=/`) and never from another host.
    var cookieName: String { Self.cookieName(secure: secure) }

    static func cookieName(secure: Bool) -> String { secure ? "__Host-" + cookieName : cookieName }

    /// The request's session; ``ServiceError/unauthorized`` without a valid one.
    func session(_ request: Request, context: AppRequestContext) async throws -> Session {
        guard let token = token(in: request) else { throw ServiceError.unauthorized }
        return try await sessions.authenticate(token: token, client: context.client(request))
    }

    /// The bearer token or session cookie of a request.
    func token(in request: Request) -> String? {
        if let header = request.headers[.authorization] {
            let parts = header.split(separator: " ", maxSplits: 1)
            if parts.count == 2, parts[0].lowercased() == "bearer" { return String(parts[1]) }
            return nil
        }
        return request.cookies[cookieName]?.value
    }

    /// The cookie that carries a new session to the browser.
    func cookie(token: String) -> Cookie {
        Cookie(
            name: cookieName, value: token, maxAge: Self.cookieLifetime, path: "/", secure: secure,
            httpOnly: true, sameSite: .lax)
    }

    /// The cookie that removes the session from the browser.
    func expiredCookie() -> Cookie {
        Cookie(name: cookieName, value: "", maxAge: 0, path: "/", secure: secure, httpOnly: true, sameSite: .lax)
    }
}

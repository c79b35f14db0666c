import HTTPTypes
import Hummingbird

/// Headers every response carries: a strict Content-Security-Policy (no inline scripts or
/// styles, no framing), `nosniff`, no referrer to other sites, and `no-store` on API answers;
/// when the browser reaches the server over HTTPS (served here, or an `https://` public URL
/// behind a proxy), `Strict-Transport-Security` too, so it never falls back to plain HTTP.
struct SecurityHeadersMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext

    /// HSTS for a year, for this host only: a home domain's other names may not have HTTPS.
    static let strictTransportSecurity = "max-age=31536000"

    /// Whether browsers reach the server over HTTPS (``ServerConfiguration/servesHTTPS(publicURL:)``).
    let servesHTTPS: Bool

    static let contentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
        + "media-src 'self' blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
        + "form-action 'self'; frame-ancestors 'none'"

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    )
        async throws -> Response
    {
        var response = try await next(request, context)
        response.headers[.contentSecurityPolicy] = Self.contentSecurityPolicy
        response.headers[.xContentTypeOptions] = "nosniff"
        // Nothing leaves for other sites; same-origin form posts keep their real `Origin` (under
        // `no-referrer` browsers send `Origin: null`, which the origin check must refuse).
        response.headers[.referrerPolicy] = "same-origin"
        response.headers[.xFrameOptions] = "DENY"
        if servesHTTPS { response.headers[.strictTransportSecurity] = Self.strictTransportSecurity }
        if request.uri.path.hasPrefix("/api/"), response.headers[.cacheControl] == nil {
            response.headers[.cacheControl] = "no-store"
        }
        return response
    }
}

extension HTTPField.Name {
    static let xFrameOptions = Self("X-Frame-Options")!
    static let xForwardedFor = Self("X-Forwarded-For")!
    static let xRequestID = Self("X-Request-Id")!
    static let referrerPolicy = Self("Referrer-Policy")!
}

import Hummingbird
import Services
import Storage

/// Authenticates every request of the routes behind it and leaves the session in the request
/// context (``AppRequestContext/session``): `401 unauthorized` without a valid session, `403
/// forbidden` when the user's role is below `role`. Handlers read `context.signedIn()`.
struct SessionMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext

    let authenticator: SessionAuthenticator
    /// The least role the routes need.
    var role: User.Role = .member

    func handle(
        _ request: Request, context: AppRequestContext, next: (Request, AppRequestContext) async throws -> Response
    ) async throws -> Response {
        let session = try await authenticator.session(request, context: context)
        guard session.user.role >= role else { throw ServiceError.forbidden }
        var context = context
        context.session = session
        return try await next(request, context)
    }
}

extension RouterGroup where Context == AppRequestContext {
    /// The routes added to the returned group need a signed-in user of at least `role`.
    func signedIn(_ authenticator: SessionAuthenticator, role: User.Role = .member) -> RouterGroup<Context> {
        group().add(middleware: SessionMiddleware(authenticator: authenticator, role: role))
    }
}

import Foundation
import Hummingbird
import Services

/// What a browser needs to place a call beyond the socket: the ICE servers.
struct CallsController: Sendable {
    let calls: Calls
    let authenticator: SessionAuthenticator

    func addRoutes(to api: RouterGroup<AppRequestContext>) {
        api.signedIn(authenticator).get("calls/ice", use: ice)
    }

    struct IceJSON: Encodable {
        let iceServers: [Calls.IceServer]
        /// Seconds the credentials work; 0 when there are none.
        let ttl: Int
    }

    /// `GET /api/v1/calls/ice` — `{iceServers: [{urls, username?, credential?}], ttl}`: none on a
    /// server without TURN; with `HEARTH_TURN_URI` and `HEARTH_TURN_SECRET_FILE`, credentials
    /// minted for the signed-in user. Never cached.
    @Sendable func ice(_ request: Request, context: AppRequestContext) async throws -> Response {
        let session = try context.signedIn()
        let (servers, ttl) = calls.iceServers(for: session.user)
        var response = try Response.json(IceJSON(iceServers: servers, ttl: ttl))
        response.headers[.cacheControl] = "no-store"
        return response
    }
}

import Foundation
import Hummingbird
import Logging
import NIOCore
import NIOWebSocket
import Services
import Synchronization

/// `GET /api/v1/ws` — the relay's WebSocket (docs/PROTOCOL.md).
///
/// Authenticated before the upgrade (Bearer header, or the session cookie from a page of this
/// server, checked by `Origin`): anything else gets a JSON 401 or 403 and no socket. The route
/// leaves the accepted session in the request context; after the `101`, ``RelayUpgradeChannel``
/// calls ``install(_:on:)``, which opens the device's relay session and puts a
/// ``RelaySocketHandler`` on the socket.
struct WebSocketEndpoint: Sendable {
    let relay: Relay
    let hub: RelayHub
    let logger: Logger
    let authenticator: SessionAuthenticator
    let originCheck: OriginCheckMiddleware

    func addRoute(to router: Router<AppRequestContext>) {
        router.get("api/v1/ws") { request, context in try await accept(request, context: context) }
    }

    /// Authenticates the upgrade request; throws (401/403/426) to refuse it.
    @Sendable func accept(_ request: Request, context: AppRequestContext) async throws -> Response {
        if request.headers[.authorization] == nil, request.cookies[authenticator.cookieName] != nil {
            // A cookie rides along with any page's request: only our own pages may use it here.
            guard let origin = request.headers[.origin], originCheck.isSameOrigin(origin, request: request) else {
                throw APIError(
                    .forbidden, code: "origin_mismatch", message: "WebSocket connections from another site are refused."
                )
            }
        }
        let session = try await authenticator.session(request, context: context)
        guard request.headers[.upgrade]?.lowercased() == "websocket" else {
            throw APIError(
                HTTPResponse.Status(code: 426, reasonPhrase: "Upgrade Required"), code: "upgrade_required",
                message: "Connect with a WebSocket client.")
        }
        context.upgrade.accept(
            AcceptedUpgrade(session: session, after: request.uri.queryParameters.get("after", as: Int64.self)))
        return Response(status: .ok)
    }

    /// After the `101`: opens the device's relay session and hands the socket to its handler, or
    /// closes it with the refusal's code: 1001 while the server shuts down, 4029 when the device
    /// or its user already has as many sockets open as allowed.
    func install(_ upgrade: AcceptedUpgrade, on channel: any Channel) -> EventLoopFuture<Void> {
        let promise = channel.eventLoop.makePromise(of: Result<RelaySession, CloseRefusal>.self)
        promise.completeWithTask { [relay, hub] in await RelaySession.open(upgrade.session, relay: relay, hub: hub) }
        let limits = relay.limits
        let (hub, logger) = (hub, logger)
        return promise.futureResult.flatMapThrowing { opened in
            let session: RelaySession
            switch opened {
            case .success(let opened): session = opened
            case .failure(let refusal):
                let reason = refusal.reason
                let frame = RelaySocketHandler.closeFrame(
                    code: WebSocketErrorCode(codeNumber: Int(reason.code)), reason: reason.text,
                    allocator: channel.allocator)
                channel.writeAndFlush(frame).whenComplete { _ in channel.close(promise: nil) }
                return
            }
            do {
                try channel.pipeline.syncOperations.addHandler(
                    RelaySocketHandler(
                        session: session, hub: hub, after: upgrade.after, maxMessageBytes: limits.maxFrameBytes,
                        pingInterval: .milliseconds(Int64(limits.pingInterval * 1000)), logger: logger))
            } catch {
                // The client left while the session opened: the device leaves the hub again.
                Task { await session.close() }
                throw error
            }
        }
    }
}

/// An upgrade the WebSocket route accepted: whose socket it is, and where its sync starts.
struct AcceptedUpgrade: Sendable {
    let session: Session
    /// The `?after=` cursor: replay what came after it before anything else.
    let after: Int64?
}

/// Where the WebSocket route leaves an accepted upgrade for the channel, which acts on it after
/// the `101`.
final class UpgradeTicket: Sendable {
    private let value = Mutex<AcceptedUpgrade?>(nil)

    func accept(_ upgrade: AcceptedUpgrade) { value.withLock { $0 = upgrade } }
    var accepted: AcceptedUpgrade? { value.withLock { $0 } }
}

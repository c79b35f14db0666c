import Foundation
import Hummingbird
import HummingbirdWebSocket
import NIOWebSocket
import Services

/// `GET /api/v1/ws` — the WebSocket of SPEC §4 (docs/PROTOCOL.md).
///
/// Authenticated before the upgrade (Bearer header, or the session cookie from a page of this
/// server, checked by `Origin`): anything else gets a JSON 401 or 403 and no socket. After the
/// upgrade, one task reads the client's frames in order, and a ``SocketWriter`` writes the
/// socket's outbox on the event loop.
struct WebSocketEndpoint: Sendable {
    let services: AppServices
    let authenticator: SessionAuthenticator
    let originCheck: OriginCheckMiddleware

    func addRoute(to router: Router<AppRequestContext>) {
        router.ws("api/v1/ws", shouldUpgrade: shouldUpgrade, onUpgrade: handle)
    }

    /// Authenticates the upgrade request; throws (401/403) to refuse it.
    @Sendable func shouldUpgrade(_ request: Request, context: AppRequestContext) async throws -> RouterShouldUpgrade {
        if request.headers[.authorization] == nil, request.cookies[authenticator.cookieName] != nil {
            // A cookie rides along with any page's request: only our own pages may use it here.
            guard let origin = request.headers[.origin], originCheck.isSameOrigin(origin, request: request) else {
                throw APIError(
                    .forbidden, code: "origin_mismatch", message: "WebSocket connections from another site are refused."
                )
            }
        }
        _ = try await authenticator.session(request, context: context)
        guard request.headers[.upgrade]?.lowercased() == "websocket" else {
            throw APIError(
                HTTPResponse.Status(code: 426, reasonPhrase: "Upgrade Required"), code: "upgrade_required",
                message: "Connect with a WebSocket client.")
        }
        return .upgrade([:])
    }

    @Sendable func handle(
        inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter,
        context: WebSocketRouterContext<AppRequestContext>
    ) async throws {
        let request = context.request
        guard let session = try? await authenticator.session(request, context: context.requestContext),
            let relaySession = await services.relay.open(session)
        else {
            try await outbound.close(
                WebSocketErrorCode(codeNumber: Int(CloseReason.sessionEnded.code)),
                reason: CloseReason.sessionEnded.text)
            return
        }
        let connection = relaySession.connection
        let hub = services.relay.hub
        let maxFrame = services.configuration.relay.maxFrameBytes
        let after = request.uri.queryParameters.get("after", as: Int64.self)

        let writer = SocketWriter(connection: connection, channel: context.requestContext.channel, hub: hub) {
            reason in
            // The outbox has closed and its last frame is out: the close frame follows, unless the
            // client closed. A task only now, so that an open socket costs no task of its own.
            guard reason != .clientGone else { return }
            Task { try? await outbound.close(WebSocketErrorCode(codeNumber: Int(reason.code)), reason: reason.text) }
        }
        if let after { await relaySession.sync(after: after) }
        var readError: (any Error)?
        do {
            for try await message in inbound.messages(maxSize: maxFrame) {
                switch message {
                case .text(let text): await relaySession.receive(text: text)
                case .binary: relaySession.receiveBinary()
                }
            }
        } catch {
            context.logger.debug("socket read ended", metadata: ["error": "\(error)"])
            readError = error
        }
        // The client has gone: what is queued is written before the WebSocket layer closes.
        connection.outbox.close(.clientGone)
        await writer.finished()
        await relaySession.close()
        // A protocol error (a text frame that is not UTF-8, say) goes back to the WebSocket
        // layer, which closes with its code (1007 for that one).
        if let readError { throw readError }
    }
}

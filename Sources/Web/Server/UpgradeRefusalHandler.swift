import Foundation
import NIOCore
import NIOHTTP1
import Services

/// Gives a refused WebSocket upgrade its real answer.
///
/// ``RelayUpgradeChannel`` answers any upgrade the router refuses with a bare `400`, because
/// NIO's upgrade handler keeps the request head (and so the router's answer) to itself. This handler sits right after the
/// HTTP decoder, so it sees the connection's first request (the only one that can be an upgrade)
/// before the upgrade handler does. When that is an upgrade to `/api/v1/ws` it rewrites the
/// `400` into what the refusal means: `403 origin_mismatch` for a cookie from another site's
/// page, else `401 unauthorized` (no valid session), with the JSON error body of every other API
/// answer. It leaves the pipeline once its work is done: at once after a plain first request,
/// after the `101` of an accepted upgrade, or after the rewritten answer.
final class UpgradeRefusalHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    let originCheck: OriginCheckMiddleware
    private var refusal: APIError?
    /// Whether the answer to the upgrade request went out: then this handler leaves.
    private var done = false

    init(originCheck: OriginCheckMiddleware) {
        self.originCheck = originCheck
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .head(let head) = unwrapInboundIn(data) else {
            context.fireChannelRead(data)
            return
        }
        let headers = head.headers
        guard headers[canonicalForm: "upgrade"].contains(where: { $0.lowercased() == "websocket" }),
            head.uri.hasPrefix("/api/v1/ws")
        else {
            context.fireChannelRead(data)
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
            return
        }
        let cookieOnly =
            headers["authorization"].isEmpty
            && headers["cookie"].contains { $0.contains(SessionAuthenticator.cookieName + "=") }  // also __Host-
        let origin = headers["origin"].first
        if cookieOnly, origin.map({ !originCheck.isSameOrigin($0, authority: headers["host"].first) }) ?? true {
            refusal = APIError(
                .forbidden, code: "origin_mismatch", message: "WebSocket connections from another site are refused.")
        } else {
            refusal = APIError(ServiceError.unauthorized)
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard case .head(var head) = unwrapOutboundIn(data) else {
            context.write(data, promise: promise)
            return
        }
        guard head.status == .badRequest, let refusal else {
            // The upgrade was accepted (101), or some other answer: nothing to rewrite. Leave once
            // the answer is flushed, before the WebSocket handlers take over.
            done = true
            context.write(data, promise: promise)
            return
        }
        let body = Self.body(refusal)
        head.status = .init(statusCode: Int(refusal.status.code))
        head.headers.replaceOrAdd(name: "content-type", value: "application/json; charset=utf-8")
        head.headers.replaceOrAdd(name: "content-length", value: String(body.count))
        if refusal.status == .unauthorized { head.headers.replaceOrAdd(name: "www-authenticate", value: "Bearer") }
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(bytes: body)))), promise: promise)
        done = true
    }

    func flush(context: ChannelHandlerContext) {
        context.flush()
        if done { context.pipeline.syncOperations.removeHandler(context: context, promise: nil) }
    }

    static func body(_ error: APIError) -> [UInt8] {
        struct Body: Encodable {
            struct Detail: Encodable {
                let code: String
                let message: String
            }
            let error: Detail
        }
        return [UInt8](
            (try? JSONEncoder().encode(Body(error: .init(code: error.code, message: error.message)))) ?? Data())
    }
}

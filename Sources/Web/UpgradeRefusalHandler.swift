import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import NIOHTTPTypes
import Services

/// Gives a refused WebSocket upgrade its real answer.
///
/// hummingbird-websocket answers any upgrade its `shouldUpgrade` refuses with a bare `400`. This
/// handler, in each HTTP connection's pipeline, remembers whether the request was an upgrade to
/// `/api/v1/ws` and rewrites that `400` into what the refusal means: `403 origin_mismatch` for a
/// cookie from another site's page, else `401 unauthorized` (no valid session) — with the JSON
/// error body of every other API answer.
final class UpgradeRefusalHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    let originCheck: OriginCheckMiddleware
    private var refusal: APIError?

    init(originCheck: OriginCheckMiddleware) {
        self.originCheck = originCheck
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .head(let head) = unwrapInboundIn(data) {
            refusal = nil
            if head.headerFields[.upgrade]?.lowercased() == "websocket", head.path?.hasPrefix("/api/v1/ws") == true {
                let cookieOnly =
                    head.headerFields[.authorization] == nil
                    && head.headerFields[.cookie]?.contains(SessionAuthenticator.cookieName + "=") == true
                let origin = head.headerFields[.origin]
                if cookieOnly, origin.map({ !originCheck.isSameOrigin($0, authority: head.authority) }) ?? true {
                    refusal = APIError(
                        .forbidden, code: "origin_mismatch",
                        message: "WebSocket connections from another site are refused.")
                } else {
                    refusal = APIError(ServiceError.unauthorized)
                }
            }
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard case .head(var head) = unwrapOutboundIn(data), head.status == .badRequest, let refusal else {
            context.write(data, promise: promise)
            return
        }
        self.refusal = nil
        let body = Self.body(refusal)
        head.status = refusal.status
        head.headerFields[.contentType] = "application/json; charset=utf-8"
        head.headerFields[.contentLength] = String(body.count)
        if refusal.status == .unauthorized { head.headerFields[.wwwAuthenticate] = "Bearer" }
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.write(wrapOutboundOut(.body(ByteBuffer(bytes: body))), promise: promise)
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

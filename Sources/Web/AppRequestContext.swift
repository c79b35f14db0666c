import Hummingbird
import HummingbirdWebSocket
import NIOCore
import Services

/// The per-request context: Hummingbird's core storage plus who the client is.
public struct AppRequestContext: RequestContext, WebSocketRequestContext {
    public var coreContext: CoreRequestContextStorage
    /// Where an accepted WebSocket upgrade keeps its handler.
    public let webSocket = WebSocketHandlerReference<Self>()
    /// The peer's IP address as the socket sees it (a proxy, when there is one).
    public let peerAddress: String?
    /// The client's IP address after trusted-proxy resolution; set by ``ClientAddressMiddleware``.
    public var clientAddress: String?
    /// The connection's channel: an upgraded WebSocket writes its outbox straight into it.
    let channel: any Channel

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
        peerAddress = source.channel.remoteAddress?.ipAddress
        clientAddress = peerAddress
    }

    /// The client as Services see it.
    public func client(_ request: Request) -> Client {
        Client(ip: clientAddress, userAgent: request.headers[.userAgent].map { String($0.prefix(256)) })
    }
}

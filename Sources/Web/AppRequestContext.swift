import Hummingbird
import NIOCore
import Services

/// The per-request context: Hummingbird's core storage plus who the client is.
public struct AppRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// Where the WebSocket route leaves an upgrade it accepted.
    let upgrade = UpgradeTicket()
    /// The peer's IP address as the socket sees it (a proxy, when there is one).
    public let peerAddress: String?
    /// The client's IP address after trusted-proxy resolution; set by ``ClientAddressMiddleware``.
    public var clientAddress: String?
    /// The signed-in session, set by ``SessionMiddleware`` on the routes behind it.
    public var session: Session?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        peerAddress = source.channel.remoteAddress?.ipAddress
        clientAddress = peerAddress
    }

    /// The session of a route behind ``SessionMiddleware``; `401` anywhere else.
    func signedIn() throws -> Session {
        guard let session else { throw ServiceError.unauthorized }
        return session
    }

    /// The room named by the path's `{id}`; a path whose id is not a number names no room (404).
    func roomID() throws -> Int64 {
        guard let id = parameters.get("id").flatMap(Int64.init) else { throw ServiceError.roomNotFound }
        return id
    }

    /// The webhook named by the path's `{hook}` (404 when it is not a number).
    func hookID() throws -> Int64 {
        guard let id = parameters.get("hook").flatMap(Int64.init) else { throw ServiceError.notFound("Webhook") }
        return id
    }

    /// The client as Services see it.
    public func client(_ request: Request) -> Client {
        Client(ip: clientAddress, userAgent: request.headers[.userAgent].map { String($0.prefix(256)) })
    }
}

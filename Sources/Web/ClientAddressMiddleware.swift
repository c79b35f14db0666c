import Foundation
import HTTPTypes
import Hummingbird

/// Works out the client's IP address: the socket's peer, unless that peer is a configured
/// trusted proxy, in which case the nearest untrusted address in `X-Forwarded-For`.
struct ClientAddressMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext

    let trustedProxies: Set<String>

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    )
        async throws -> Response
    {
        var context = context
        context.clientAddress = Self.resolve(
            peer: context.peerAddress, forwardedFor: request.headers[values: .xForwardedFor],
            trustedProxies: trustedProxies)
        return try await next(request, context)
    }

    /// The client address for a request from `peer` carrying these `X-Forwarded-For` values.
    static func resolve(peer: String?, forwardedFor: [String], trustedProxies: Set<String>) -> String? {
        guard let peer, trustedProxies.contains(peer) else { return peer }
        let hops = forwardedFor.flatMap { $0.split(separator: ",") }.map { $0.trimmingCharacters(in: .whitespaces) }
        // Walk from the nearest hop back; the first address we do not trust is the client.
        for hop in hops.reversed() where !hop.isEmpty && !trustedProxies.contains(hop) {
            return hop
        }
        return hops.first ?? peer
    }
}

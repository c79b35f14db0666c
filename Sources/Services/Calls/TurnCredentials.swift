import Crypto
import Foundation
import Storage

extension Calls {
    /// A STUN or TURN server as a browser's `RTCPeerConnection` takes it (`RTCIceServer`).
    public struct IceServer: Sendable, Equatable, Encodable {
        public let urls: [String]
        public let username: String?
        public let credential: String?
    }

    /// The ICE servers for `user`'s calls, and how many seconds their credentials last: none on
    /// a server without TURN (the browser's own defaults then, enough on one home network);
    /// with `HEARTH_TURN_URI` and a secret, time-limited credentials in the TURN REST API scheme
    /// coturn implements as `use-auth-secret`: the username is `EXPIRY:USERID` (Unix seconds),
    /// the credential the base64 HMAC-SHA1 of it keyed with the shared secret.
    public func iceServers(for user: User) -> (servers: [IceServer], ttl: Int) {
        let settings = settings
        guard !settings.turnURIs.isEmpty else { return ([], 0) }
        guard let secret = settings.turnSecret else {
            return ([IceServer(urls: settings.turnURIs, username: nil, credential: nil)], 0)
        }
        let ttl = Int(settings.turnCredentialLifetime)
        let expiry = Int64(clock().timeIntervalSince1970) + Int64(ttl)
        let username = "\(expiry):\(user.id)"
        return (
            [
                IceServer(
                    urls: settings.turnURIs, username: username,
                    credential: Self.turnCredential(username, secret: secret))
            ], ttl
        )
    }

    /// The TURN REST API credential of `username`: base64(HMAC-SHA1(secret, username)).
    static func turnCredential(_ username: String, secret: String) -> String {
        let mac = HMAC<Insecure.SHA1>.authenticationCode(
            for: Data(username.utf8), using: SymmetricKey(data: Data(secret.utf8)))
        return Data(mac).base64EncodedString()
    }
}

import Crypto
import Foundation

/// Voluntary Application Server Identification (RFC 8292): the server's P-256 key pair, whose
/// public half browsers subscribe with (`applicationServerKey`) and whose private half signs a
/// short-lived JWT on every push, so a push service knows the pushes come from the same server.
public struct VAPIDKey: Sendable {
    public let privateKey: P256.Signing.PrivateKey

    /// A new key pair.
    public init() {
        privateKey = P256.Signing.PrivateKey()
    }

    /// The key kept in the database: the 32-byte private scalar.
    public init(rawRepresentation: Data) throws(WebPushError) {
        guard let key = try? P256.Signing.PrivateKey(rawRepresentation: rawRepresentation) else {
            throw .invalidKey("a VAPID private key is a 32-byte P-256 scalar")
        }
        privateKey = key
    }

    public var rawRepresentation: Data { privateKey.rawRepresentation }

    /// The public key as browsers take it: the uncompressed point (65 bytes), base64url.
    public var publicKey: String { Base64URL.encode(privateKey.publicKey.x963Representation) }

    /// The `Authorization` header for a push to `endpoint`: `vapid t=JWT, k=PUBLIC KEY`, the JWT
    /// (ES256) naming the push service's origin (`aud`), when it expires (`exp`, at most 24 hours
    /// ahead) and whom to contact (`sub`, a `mailto:` or `https:` URL).
    public func authorization(for endpoint: URL, subject: String, expiresAt: Date) throws(WebPushError) -> String {
        guard let audience = Self.origin(of: endpoint) else {
            throw .invalidEndpoint("the endpoint has no origin")
        }
        let header = Base64URL.encode(Data(#"{"typ":"JWT","alg":"ES256"}"#.utf8))
        let claims: [String: any Sendable] = [
            "aud": audience, "exp": Int(expiresAt.timeIntervalSince1970), "sub": subject,
        ]
        guard let claimsJSON = try? JSONSerialization.data(withJSONObject: claims, options: [.sortedKeys]) else {
            throw .invalidEndpoint("the claims are not JSON")
        }
        let signingInput = header + "." + Base64URL.encode(claimsJSON)
        guard let signature = try? privateKey.signature(for: Data(signingInput.utf8)) else {
            throw .invalidKey("the VAPID key did not sign")
        }
        // JWS ES256: the signature is r and s, 32 bytes each, not DER.
        return "vapid t=\(signingInput).\(Base64URL.encode(signature.rawRepresentation)), k=\(publicKey)"
    }

    /// `scheme://host[:port]` of a URL, the JWT's audience.
    public static func origin(of url: URL) -> String? {
        guard let components = URLComponents(url: url, resolvingAgainstBaseURL: false),
            let scheme = components.scheme?.lowercased(), let host = components.host, !host.isEmpty
        else { return nil }
        let hostPart = host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
        return components.port.map { "\(scheme)://\(hostPart):\($0)" } ?? "\(scheme)://\(hostPart)"
    }
}

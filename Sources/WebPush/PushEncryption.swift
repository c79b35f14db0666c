import Crypto
import Foundation

/// A push subscription's keys, as `PushSubscription.toJSON()` gives them: the browser's P-256
/// public key (`p256dh`) and its 16-byte authentication secret (`auth`), both base64url.
public struct PushSubscriberKeys: Sendable, Equatable {
    public let publicKey: P256.KeyAgreement.PublicKey
    public let authSecret: Data
    /// The public key as the browser gave it (65 bytes, uncompressed), as encryption needs it.
    let point: Data

    public init(p256dh: String, auth: String) throws(WebPushError) {
        guard let point = Base64URL.decode(p256dh), point.count == 65, point.first == 0x04 else {
            throw .invalidKey("p256dh must be an uncompressed P-256 point: 65 bytes, base64url")
        }
        guard let publicKey = try? P256.KeyAgreement.PublicKey(x963Representation: point) else {
            throw .invalidKey("p256dh is not a point on the P-256 curve")
        }
        guard let secret = Base64URL.decode(auth), secret.count == 16 else {
            throw .invalidKey("auth must be 16 bytes, base64url")
        }
        self.publicKey = publicKey
        self.authSecret = secret
        self.point = point
    }

    public static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.point == rhs.point && lhs.authSecret == rhs.authSecret
    }

    /// The public key and secret as they were given, base64url.
    public var p256dh: String { Base64URL.encode(point) }
    public var auth: String { Base64URL.encode(authSecret) }
}

/// Message encryption for Web Push (RFC 8291) in the `aes128gcm` content coding (RFC 8188): what
/// only the subscribed browser can open, so the push service relays bytes it cannot read.
public enum PushEncryption {
    /// The record size written in the header: one record holds the whole message.
    public static let recordSize = 4096
    /// The most plaintext one push carries: push services accept 4,096 bytes of body, less the
    /// header (86), the AES-GCM tag (16) and the padding delimiter (1).
    public static let maximumPlaintext = 4096 - 86 - 16 - 1

    /// Encrypts `plaintext` to `subscriber`: a body for `Content-Encoding: aes128gcm`. A fresh
    /// key pair and salt are made for every message; tests pass RFC 8291's to check its bytes.
    public static func encrypt(
        _ plaintext: some DataProtocol, to subscriber: PushSubscriberKeys,
        serverKey: P256.KeyAgreement.PrivateKey = ephemeralKey(), salt: Data = randomBytes(16)
    ) throws(WebPushError) -> Data {
        guard plaintext.count <= maximumPlaintext else { throw .payloadTooLarge(plaintext.count) }
        guard salt.count == 16 else { throw .invalidKey("the salt must be 16 bytes") }
        let secret: SharedSecret
        do {
            secret = try serverKey.sharedSecretFromKeyAgreement(with: subscriber.publicKey)
        } catch {
            throw .invalidKey("no shared secret with p256dh")
        }
        let serverPublic = serverKey.publicKey.x963Representation
        // RFC 8291 §3.4: the input keying material binds both public keys and the auth secret.
        let keyInfo = Data("WebPush: info\0".utf8) + subscriber.point + serverPublic
        let ikm = secret.hkdfDerivedSymmetricKey(
            using: SHA256.self, salt: subscriber.authSecret, sharedInfo: keyInfo, outputByteCount: 32)
        // RFC 8188 §2.2–2.3: the content key and nonce, from the salt.
        let key = HKDF<SHA256>.deriveKey(
            inputKeyMaterial: ikm, salt: salt, info: Data("Content-Encoding: aes128gcm\0".utf8), outputByteCount: 16)
        let nonceBytes = HKDF<SHA256>.deriveKey(
            inputKeyMaterial: ikm, salt: salt, info: Data("Content-Encoding: nonce\0".utf8), outputByteCount: 12
        ).withUnsafeBytes { Data($0) }
        // One record, the last: the plaintext and the delimiter 0x02, no further padding.
        var record = Data(plaintext)
        record.append(0x02)
        let sealed: AES.GCM.SealedBox
        do {
            sealed = try AES.GCM.seal(record, using: key, nonce: try AES.GCM.Nonce(data: nonceBytes))
        } catch {
            throw .invalidKey("AES-GCM refused the key: \(error)")
        }
        var body = Data(capacity: 86 + record.count + 16)
        body.append(salt)
        withUnsafeBytes(of: UInt32(recordSize).bigEndian) { body.append(contentsOf: $0) }
        body.append(UInt8(serverPublic.count))
        body.append(serverPublic)
        body.append(sealed.ciphertext)
        body.append(sealed.tag)
        return body
    }
}

extension PushEncryption {
    /// A new P-256 key pair for one message: a uniformly random scalar (one in 2^32 falls outside
    /// 1…n−1 and is drawn again) times the base point. swift-crypto's `PrivateKey()` makes as good
    /// a key at about three times the cost — it also runs a FIPS pairwise test (an ECDSA signature
    /// made and checked) and redraws until the key has a compact form — which was half of the CPU
    /// of a push.
    public static func ephemeralKey() -> P256.KeyAgreement.PrivateKey {
        while true {
            if let key = try? P256.KeyAgreement.PrivateKey(rawRepresentation: randomBytes(32)) { return key }
        }
    }

    /// `count` bytes from the system's cryptographic random source (getrandom on Linux).
    public static func randomBytes(_ count: Int) -> Data {
        var generator = SystemRandomNumberGenerator()
        var bytes = Data(count: (count + 7) / 8 * 8)
        bytes.withUnsafeMutableBytes { buffer in
            for index in 0..<(buffer.count / 8) {
                buffer.storeBytes(of: generator.next() as UInt64, toByteOffset: index * 8, as: UInt64.self)
            }
        }
        return bytes.prefix(count)
    }
}

/// Why a push could not be made.
public enum WebPushError: Error, Equatable, CustomStringConvertible {
    /// A subscription's key or secret is malformed (the sentence says which).
    case invalidKey(String)
    /// The payload is longer than one push carries.
    case payloadTooLarge(Int)
    /// The endpoint is not an absolute https URL (or http to loopback, where allowed).
    case invalidEndpoint(String)

    public var description: String {
        switch self {
        case .invalidKey(let reason): reason
        case .payloadTooLarge(let size):
            "a push carries at most \(PushEncryption.maximumPlaintext) bytes, not \(size)"
        case .invalidEndpoint(let reason): reason
        }
    }
}

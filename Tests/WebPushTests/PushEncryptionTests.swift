import Crypto
import Foundation
import Testing

@testable import WebPush

/// RFC 8291 and RFC 8292 against their own examples, and the checks on what a browser sends.
@Suite struct PushEncryptionTests {
    static func bytes(_ text: String) -> Data { Base64URL.decode(text)! }

    /// RFC 8291 Appendix A: its plaintext, keys and salt give exactly its body.
    @Test func theRFCsExampleEncryptsToItsBytes() throws {
        let subscriber = try PushSubscriberKeys(
            p256dh: "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4",
            auth: "BTBZMqHH6r4Tts7J_aSIgg")
        let serverKey = try P256.KeyAgreement.PrivateKey(
            rawRepresentation: Self.bytes("yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw"))
        #expect(
            Base64URL.encode(serverKey.publicKey.x963Representation)
                == "BP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A8")
        let body = try PushEncryption.encrypt(
            Self.bytes("V2hlbiBJIGdyb3cgdXAsIEkgd2FudCB0byBiZSBhIHdhdGVybWVsb24"), to: subscriber,
            serverKey: serverKey, salt: Self.bytes("DGv6ra1nlYgDCS1FRnbzlw"))
        #expect(
            Base64URL.encode(body)
                == "DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6Tlz"
                + "AC8wEqKK6PBru3jl7A_yl95bQpu6cVPTpK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSxsj_Qulcy4a-fN")
    }

    /// The subscriber decrypts what it gets, as a browser does (RFC 8291 §3.4 from its side).
    @Test func aFreshKeyAndSaltEveryTimeAndTheBrowserOpensIt() throws {
        let browser = P256.KeyAgreement.PrivateKey()
        let auth = Data((0..<16).map { UInt8($0) })
        let subscriber = try PushSubscriberKeys(
            p256dh: Base64URL.encode(browser.publicKey.x963Representation), auth: Base64URL.encode(auth))
        let text = Data("{\"type\":\"message\",\"body\":\"Dinner at 7?\"}".utf8)
        let first = try PushEncryption.encrypt(text, to: subscriber)
        let second = try PushEncryption.encrypt(text, to: subscriber)
        #expect(first != second)
        #expect(first.count == 86 + text.count + 1 + 16)
        #expect(try Self.open(first, with: browser, auth: auth) == text)
    }

    @Test func tooMuchForOnePushIsRefused() throws {
        let subscriber = try PushSubscriberKeys(
            p256dh: Base64URL.encode(P256.KeyAgreement.PrivateKey().publicKey.x963Representation),
            auth: Base64URL.encode(Data(count: 16)))
        #expect(throws: WebPushError.payloadTooLarge(3994)) {
            try PushEncryption.encrypt(Data(count: 3994), to: subscriber)
        }
        #expect(try PushEncryption.encrypt(Data(count: 3993), to: subscriber).count == 4096)
    }

    @Test func malformedKeysAreRefusedWithTheReason() {
        let point = Base64URL.encode(P256.KeyAgreement.PrivateKey().publicKey.x963Representation)
        let cases: [(String, String, String)] = [
            (
                "not base64!", "AAAAAAAAAAAAAAAAAAAAAA",
                "p256dh must be an uncompressed P-256 point: 65 bytes, base64url"
            ),
            (
                String(point.dropLast(4)), "AAAAAAAAAAAAAAAAAAAAAA",
                "p256dh must be an uncompressed P-256 point: 65 bytes, base64url"
            ),
            (
                "BA" + String(repeating: "A", count: 85), "AAAAAAAAAAAAAAAAAAAAAA",
                "p256dh is not a point on the P-256 curve"
            ),
            (point, "AAAA", "auth must be 16 bytes, base64url"),
        ]
        for (p256dh, auth, reason) in cases {
            #expect(throws: WebPushError.invalidKey(reason)) { try PushSubscriberKeys(p256dh: p256dh, auth: auth) }
        }
    }

    /// RFC 8292: the JWT is ES256 over the header and claims, verifiable with the public key `k`.
    @Test func theVAPIDTokenIsSignedForThePushServicesOrigin() throws {
        let key = VAPIDKey()
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let header = try key.authorization(
            for: URL(string: "https://push.example.net:8443/wpush/v2/abc?x=1")!, subject: "mailto:admin@example.org",
            expiresAt: now.addingTimeInterval(43_200))
        let parts = header.split(separator: " ", maxSplits: 1)
        #expect(parts[0] == "vapid")
        let fields = Dictionary(
            uniqueKeysWithValues: parts[1].split(separator: ",").map {
                let pair = $0.trimmingCharacters(in: .whitespaces).split(separator: "=", maxSplits: 1)
                return (String(pair[0]), String(pair[1]))
            })
        #expect(fields["k"] == key.publicKey)
        let jwt = fields["t"]!.split(separator: ".").map(String.init)
        #expect(jwt.count == 3)
        let claims = try JSONSerialization.jsonObject(with: Base64URL.decode(jwt[1])!) as! [String: Any]
        #expect(claims["aud"] as? String == "https://push.example.net:8443")
        #expect(claims["sub"] as? String == "mailto:admin@example.org")
        #expect(claims["exp"] as? Int == 1_800_043_200)
        let publicKey = try P256.Signing.PublicKey(x963Representation: Base64URL.decode(fields["k"]!)!)
        let signature = try P256.Signing.ECDSASignature(rawRepresentation: Base64URL.decode(jwt[2])!)
        #expect(publicKey.isValidSignature(signature, for: Data((jwt[0] + "." + jwt[1]).utf8)))
        // The same key again from what the database keeps.
        #expect(try VAPIDKey(rawRepresentation: key.rawRepresentation).publicKey == key.publicKey)
    }

    @Test func endpointsAreHTTPSOrLoopbackWhenAllowed() throws {
        #expect(
            try PushEndpoint.check("https://fcm.googleapis.com/fcm/send/abc", allowLoopbackHTTP: false).host
                == "fcm.googleapis.com")
        #expect(try PushEndpoint.check("http://127.0.0.1:9000/push/1", allowLoopbackHTTP: true).port == 9000)
        #expect(throws: WebPushError.self) {
            try PushEndpoint.check("http://127.0.0.1:9000/push/1", allowLoopbackHTTP: false)
        }
        #expect(throws: WebPushError.self) {
            try PushEndpoint.check("http://192.168.1.2/push", allowLoopbackHTTP: true)
        }
        #expect(throws: WebPushError.self) {
            try PushEndpoint.check("ftp://push.example.net/x", allowLoopbackHTTP: false)
        }
        #expect(throws: WebPushError.self) { try PushEndpoint.check("/relative", allowLoopbackHTTP: false) }
        #expect(throws: WebPushError.self) {
            try PushEndpoint.check("https://user:pw@push.example.net/x", allowLoopbackHTTP: false)
        }
    }

    @Test func retryAfterIsSecondsOrADate() {
        let now = Date(timeIntervalSince1970: 1_445_412_480)  // Wed, 21 Oct 2015 07:28:00 GMT
        #expect(PushClient.seconds(retryAfter: "120", now: now) == 120)
        #expect(PushClient.seconds(retryAfter: "Wed, 21 Oct 2015 07:29:00 GMT", now: now) == 60)
        #expect(PushClient.seconds(retryAfter: "soon", now: now) == nil)
    }

    /// RFC 8291 §3.4 and RFC 8188 from the browser's side: what a user agent does with a body.
    static func open(_ body: Data, with browser: P256.KeyAgreement.PrivateKey, auth: Data) throws -> Data {
        let salt = body.prefix(16)
        let keyLength = Int(body[body.startIndex + 20])
        let serverPublic = try P256.KeyAgreement.PublicKey(
            x963Representation: body.dropFirst(21).prefix(keyLength))
        let sealed = body.dropFirst(21 + keyLength)
        let secret = try browser.sharedSecretFromKeyAgreement(with: serverPublic)
        let info = Data("WebPush: info\0".utf8) + browser.publicKey.x963Representation + serverPublic.x963Representation
        let ikm = secret.hkdfDerivedSymmetricKey(using: SHA256.self, salt: auth, sharedInfo: info, outputByteCount: 32)
        let key = HKDF<SHA256>.deriveKey(
            inputKeyMaterial: ikm, salt: salt, info: Data("Content-Encoding: aes128gcm\0".utf8), outputByteCount: 16)
        let nonce = HKDF<SHA256>.deriveKey(
            inputKeyMaterial: ikm, salt: salt, info: Data("Content-Encoding: nonce\0".utf8), outputByteCount: 12)
        let box = try AES.GCM.SealedBox(
            nonce: AES.GCM.Nonce(data: nonce.withUnsafeBytes { Data($0) }), ciphertext: sealed.dropLast(16),
            tag: sealed.suffix(16))
        let record = try AES.GCM.open(box, using: key)
        #expect(record.last == 0x02)
        return record.dropLast()
    }
}

import Crypto
import Foundation

/// An X25519 identity: the private key that opens files encrypted to its recipient.
public struct X25519Identity: Sendable {
    let privateKey: Curve25519.KeyAgreement.PrivateKey

    /// A new random identity.
    public static func generate() -> X25519Identity {
        X25519Identity(privateKey: Curve25519.KeyAgreement.PrivateKey())
    }

    init(privateKey: Curve25519.KeyAgreement.PrivateKey) {
        self.privateKey = privateKey
    }

    /// Parses `AGE-SECRET-KEY-1…`.
    public init(_ string: String) throws {
        guard let (hrp, data) = Bech32.decode(string), hrp == "age-secret-key-", data.count == 32,
            string.hasPrefix("AGE-SECRET-KEY-1")
        else { throw AgeError.invalidKey("not an AGE-SECRET-KEY-1… identity") }
        do {
            privateKey = try Curve25519.KeyAgreement.PrivateKey(rawRepresentation: data)
        } catch {
            throw AgeError.invalidKey("not an X25519 private key")
        }
    }

    /// The identity as `AGE-SECRET-KEY-1…`.
    public var string: String {
        Bech32.encode(hrp: "age-secret-key-", data: [UInt8](privateKey.rawRepresentation)).uppercased()
    }

    /// The recipient files for this identity are encrypted to.
    public var recipient: X25519Recipient {
        X25519Recipient(publicKey: privateKey.publicKey)
    }

    /// The identities in an identity file: one `AGE-SECRET-KEY-1…` per line; `#` comments and blank
    /// lines are skipped.
    public static func parseFile(_ text: String) throws -> [X25519Identity] {
        let identities = try text.split(whereSeparator: \.isNewline).compactMap { line -> X25519Identity? in
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty || trimmed.hasPrefix("#") { return nil }
            return try X25519Identity(trimmed)
        }
        guard !identities.isEmpty else {
            throw AgeError.invalidKey("the identity file holds no AGE-SECRET-KEY-1… line")
        }
        return identities
    }
}

/// An X25519 recipient: the public key a file is encrypted to.
public struct X25519Recipient: Sendable, Equatable {
    let publicKey: Curve25519.KeyAgreement.PublicKey

    init(publicKey: Curve25519.KeyAgreement.PublicKey) {
        self.publicKey = publicKey
    }

    /// Parses `age1…`.
    public init(_ string: String) throws {
        guard let (hrp, data) = Bech32.decode(string), hrp == "age", data.count == 32, string.hasPrefix("age1") else {
            throw AgeError.invalidKey("not an age1… recipient")
        }
        do {
            publicKey = try Curve25519.KeyAgreement.PublicKey(rawRepresentation: data)
        } catch {
            throw AgeError.invalidKey("not an X25519 public key")
        }
    }

    /// The recipient as `age1…`.
    public var string: String {
        Bech32.encode(hrp: "age", data: [UInt8](publicKey.rawRepresentation))
    }

    public static func == (lhs: X25519Recipient, rhs: X25519Recipient) -> Bool {
        lhs.publicKey.rawRepresentation == rhs.publicKey.rawRepresentation
    }
}

/// Something that can open a file: an X25519 identity or a passphrase.
public enum AgeIdentity: Sendable {
    case x25519(X25519Identity)
    case passphrase(String)
}

/// Someone a file is encrypted to: an X25519 recipient or a passphrase (scrypt).
public enum AgeRecipient: Sendable {
    case x25519(X25519Recipient)
    /// `workFactor` is log2 of scrypt's N; 18 by default.
    case passphrase(String, workFactor: Int = 18)
}

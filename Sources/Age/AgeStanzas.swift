import Crypto
import CryptoExtras
import Foundation

/// Wrapping and unwrapping the 16-byte file key in X25519 and scrypt stanzas.
enum AgeStanzas {
    static let x25519Label = Array("age-encryption.org/v1/X25519".utf8)
    static let scryptLabel = Array("age-encryption.org/v1/scrypt".utf8)
    /// The largest scrypt work factor accepted when decrypting (N = 2^22, 4 GiB·r… about 1 s).
    static let maxWorkFactor = 22
    static let zeroNonce = [UInt8](repeating: 0, count: 12)

    static func seal(_ fileKey: [UInt8], with key: SymmetricKey) throws -> [UInt8] {
        let box = try ChaChaPoly.seal(fileKey, using: key, nonce: ChaChaPoly.Nonce(data: zeroNonce))
        return [UInt8](box.ciphertext) + [UInt8](box.tag)
    }

    static func open(_ body: [UInt8], with key: SymmetricKey) -> [UInt8]? {
        guard body.count == 32, let box = try? ChaChaPoly.SealedBox(combined: zeroNonce + body),
            let key = try? ChaChaPoly.open(box, using: key)
        else { return nil }
        return [UInt8](key)
    }

    // MARK: X25519

    static func wrap(_ fileKey: [UInt8], to recipient: X25519Recipient) throws -> Stanza {
        let ephemeral = Curve25519.KeyAgreement.PrivateKey()
        let share = [UInt8](ephemeral.publicKey.rawRepresentation)
        let shared = try ephemeral.sharedSecretFromKeyAgreement(with: recipient.publicKey)
        let key = wrapKey(shared: shared, share: share, recipient: [UInt8](recipient.publicKey.rawRepresentation))
        return Stanza(type: "X25519", arguments: [AgeBase64.encode(share)], body: try seal(fileKey, with: key))
    }

    static func wrapKey(shared: SharedSecret, share: [UInt8], recipient: [UInt8]) -> SymmetricKey {
        shared.hkdfDerivedSymmetricKey(
            using: SHA256.self, salt: share + recipient, sharedInfo: x25519Label, outputByteCount: 32)
    }

    /// Checks an X25519 stanza's shape (a malformed one fails the whole header).
    static func checkX25519(_ stanza: Stanza) throws -> [UInt8] {
        guard stanza.arguments.count == 1, let share = AgeBase64.decode(stanza.arguments[0]), share.count == 32 else {
            throw AgeError.headerFailure("malformed X25519 stanza")
        }
        guard stanza.body.count == 32 else { throw AgeError.headerFailure("malformed X25519 stanza body") }
        return share
    }

    /// The file key, when this identity opens the stanza; nil when it is for someone else.
    static func unwrap(_ stanza: Stanza, with identity: X25519Identity) throws -> [UInt8]? {
        let share = try checkX25519(stanza)
        guard let publicShare = try? Curve25519.KeyAgreement.PublicKey(rawRepresentation: share),
            let shared = try? identity.privateKey.sharedSecretFromKeyAgreement(with: publicShare)
        else { throw AgeError.headerFailure("invalid X25519 share") }
        guard shared.withUnsafeBytes({ $0.contains { $0 != 0 } }) else {
            throw AgeError.headerFailure("X25519 share of low order")
        }
        let key = wrapKey(
            shared: shared, share: share, recipient: [UInt8](identity.privateKey.publicKey.rawRepresentation))
        return open(stanza.body, with: key)
    }

    // MARK: scrypt

    static func wrap(_ fileKey: [UInt8], passphrase: String, workFactor: Int) throws -> Stanza {
        var salt = [UInt8](repeating: 0, count: 16)
        var generator = SystemRandomNumberGenerator()
        for index in salt.indices { salt[index] = generator.next() }
        let key = try scryptKey(passphrase: passphrase, salt: salt, workFactor: workFactor)
        return Stanza(
            type: "scrypt", arguments: [AgeBase64.encode(salt), String(workFactor)], body: try seal(fileKey, with: key))
    }

    static func scryptKey(passphrase: String, salt: [UInt8], workFactor: Int) throws -> SymmetricKey {
        do {
            return try KDF.Scrypt.deriveKey(
                from: Array(passphrase.utf8), salt: scryptLabel + salt, outputByteCount: 32, rounds: 1 << workFactor,
                blockSize: 8, parallelism: 1, maxMemory: 1 << 31)
        } catch {
            throw AgeError.headerFailure("scrypt failed: \(error)")
        }
    }

    /// Checks a scrypt stanza's shape; returns its salt and work factor.
    static func checkScrypt(_ stanza: Stanza) throws -> (salt: [UInt8], workFactor: Int) {
        guard stanza.arguments.count == 2, let salt = AgeBase64.decode(stanza.arguments[0]), salt.count == 16 else {
            throw AgeError.headerFailure("malformed scrypt stanza")
        }
        let factor = stanza.arguments[1]
        guard let first = factor.first, first != "0", factor.utf8.count <= 2,
            factor.allSatisfy({ $0.isASCII && $0.isNumber }), let workFactor = Int(factor), workFactor > 0
        else { throw AgeError.headerFailure("malformed scrypt work factor") }
        guard workFactor <= maxWorkFactor else {
            throw AgeError.headerFailure("scrypt work factor \(workFactor) is above the limit of \(maxWorkFactor)")
        }
        guard stanza.body.count == 32 else { throw AgeError.headerFailure("malformed scrypt stanza body") }
        return (salt, workFactor)
    }

    static func unwrap(_ stanza: Stanza, passphrase: String) throws -> [UInt8]? {
        let (salt, workFactor) = try checkScrypt(stanza)
        return open(stanza.body, with: try scryptKey(passphrase: passphrase, salt: salt, workFactor: workFactor))
    }

    /// Finds the file key among the header's stanzas with the given identities.
    static func fileKey(_ header: AgeHeader, identities: [AgeIdentity]) throws -> [UInt8] {
        // The structure of known stanzas is checked whatever the identities.
        let scrypt = header.stanzas.filter { $0.type == "scrypt" }
        if !scrypt.isEmpty, header.stanzas.count != 1 {
            throw AgeError.headerFailure("a scrypt stanza must be the only one")
        }
        for stanza in header.stanzas {
            switch stanza.type {
            case "X25519": _ = try checkX25519(stanza)
            case "scrypt": _ = try checkScrypt(stanza)
            default: break
            }
        }
        for identity in identities {
            for stanza in header.stanzas {
                let key: [UInt8]?
                switch (identity, stanza.type) {
                case (.x25519(let x25519), "X25519"): key = try unwrap(stanza, with: x25519)
                case (.passphrase(let passphrase), "scrypt"): key = try unwrap(stanza, passphrase: passphrase)
                default: key = nil
                }
                if let key {
                    guard key.count == 16 else { throw AgeError.headerFailure("the file key is not 16 bytes") }
                    return key
                }
            }
        }
        throw AgeError.noMatch
    }
}

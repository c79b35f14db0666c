import Crypto
import Foundation

/// age v1 (https://age-encryption.org/v1): encrypting to X25519 recipients or a passphrase, and
/// decrypting with identities or a passphrase. Streaming, in constant memory: 64 KiB at a time.
public enum Age {
    /// Decrypts an age file (binary, or ASCII-armored — detected) from `input`, handing plaintext
    /// to `output` chunk by chunk.
    ///
    /// Plaintext released before a failure is real data the file holds up to the damage; callers
    /// that must not act on partial data write to a temporary place and discard it on error.
    ///
    /// `armored` says whether the input is ASCII armor; nil detects it from the first line.
    public static func decrypt(
        _ input: some AgeInput, identities: [AgeIdentity], armored: Bool? = nil, output: ([UInt8]) throws -> Void
    ) throws {
        var probe = BufferedReader(input)
        let start = try probe.peek(1024)
        let text = start.drop { $0 == 0x20 || $0 == 0x09 || $0 == 0x0D || $0 == 0x0A }
        if armored ?? text.starts(with: Array(AgeArmor.begin.utf8)) {
            try decryptBinary(BufferedReader(AgeArmor.Decoder(probe)), identities: identities, output: output)
        } else {
            try decryptBinary(probe, identities: identities, output: output)
        }
    }

    static func decryptBinary<Input>(
        _ reader: BufferedReader<Input>, identities: [AgeIdentity], output: ([UInt8]) throws -> Void
    ) throws {
        var reader = reader
        let header = try AgeHeader.read(from: &reader)
        let fileKey = try AgeStanzas.fileKey(header, identities: identities)
        try header.verify(fileKey: fileKey)
        let nonce = try reader.read(upTo: 16)
        guard nonce.count == 16 else { throw AgeError.headerFailure("missing payload nonce") }
        try AgeStream.decrypt(&reader, key: AgeStream.payloadKey(fileKey: fileKey, nonce: nonce), output: output)
    }

    /// Encrypts `input` to `recipients`, handing the age file to `output` piece by piece; with
    /// `armor`, as ASCII armor.
    public static func encrypt(
        _ input: some AgeInput, to recipients: [AgeRecipient], armor: Bool = false, output: ([UInt8]) throws -> Void
    ) throws {
        guard !recipients.isEmpty else { throw AgeError.invalidKey("no recipients") }
        let passphrases = recipients.filter { if case .passphrase = $0 { true } else { false } }
        guard passphrases.isEmpty || recipients.count == 1 else {
            throw AgeError.invalidKey("a passphrase cannot be combined with other recipients")
        }
        var generator = SystemRandomNumberGenerator()
        let fileKey = (0..<16).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let stanzas = try recipients.map { recipient in
            switch recipient {
            case .x25519(let x25519): try AgeStanzas.wrap(fileKey, to: x25519)
            case .passphrase(let passphrase, let workFactor):
                try AgeStanzas.wrap(fileKey, passphrase: passphrase, workFactor: workFactor)
            }
        }
        let nonce = (0..<16).map { _ in UInt8.random(in: 0...255, using: &generator) }
        var armorer = armor ? AgeArmor.Encoder() : nil
        func emit(_ bytes: [UInt8]) throws {
            if let encoded = armorer?.encode(bytes) { try output(encoded) } else { try output(bytes) }
        }
        try emit(AgeHeader.encode(stanzas: stanzas, fileKey: fileKey) + nonce)
        try AgeStream.encrypt(input, key: AgeStream.payloadKey(fileKey: fileKey, nonce: nonce), output: emit)
        if let last = armorer?.finish() { try output(last) }
    }

    /// Convenience for small data: encrypts in memory.
    public static func encrypt(
        _ plaintext: [UInt8], to recipients: [AgeRecipient], armor: Bool = false
    ) throws -> [UInt8] {
        var out: [UInt8] = []
        try encrypt(BytesInput(plaintext), to: recipients, armor: armor) { out += $0 }
        return out
    }

    /// Convenience for small data: decrypts in memory.
    public static func decrypt(_ file: [UInt8], identities: [AgeIdentity]) throws -> [UInt8] {
        var out: [UInt8] = []
        try decrypt(BytesInput(file), identities: identities) { out += $0 }
        return out
    }
}

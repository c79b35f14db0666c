import Crypto
import Foundation

/// The STREAM payload: 64 KiB chunks of ChaCha20-Poly1305 with an 11-byte counter and a
/// last-chunk flag as nonce.
enum AgeStream {
    static let chunkSize = 64 * 1024
    static let tagSize = 16

    static func payloadKey(fileKey: [UInt8], nonce: [UInt8]) -> SymmetricKey {
        HKDF<SHA256>.deriveKey(
            inputKeyMaterial: SymmetricKey(data: fileKey), salt: nonce, info: Array("payload".utf8),
            outputByteCount: 32)
    }

    static func nonce(counter: UInt64, last: Bool) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: 12)
        for index in 0..<8 { bytes[10 - index] = UInt8((counter >> (8 * UInt64(index))) & 0xFF) }
        bytes[11] = last ? 1 : 0
        return bytes
    }

    static func open(_ chunk: [UInt8], key: SymmetricKey, counter: UInt64, last: Bool) -> [UInt8]? {
        guard let box = try? ChaChaPoly.SealedBox(combined: nonce(counter: counter, last: last) + chunk),
            let plaintext = try? ChaChaPoly.open(box, using: key)
        else { return nil }
        return [UInt8](plaintext)
    }

    /// Decrypts the payload from `reader`, handing each chunk's plaintext to `output` as soon as it
    /// verifies (so plaintext before damage is released, as the format allows).
    static func decrypt<Input>(
        _ reader: inout BufferedReader<Input>, key: SymmetricKey, output: ([UInt8]) throws -> Void
    ) throws {
        var counter: UInt64 = 0
        while true {
            let chunk = try reader.read(upTo: chunkSize + tagSize)
            guard !chunk.isEmpty else { throw AgeError.payloadFailure("the file ends without a final chunk") }
            guard chunk.count >= tagSize else { throw AgeError.payloadFailure("truncated chunk") }
            guard counter < (1 << 40) else { throw AgeError.payloadFailure("too many chunks") }
            // A short chunk must be the last; a full one is tried as a middle chunk, then as the last.
            var last = chunk.count < chunkSize + tagSize
            var plaintext = open(chunk, key: key, counter: counter, last: last)
            if plaintext == nil && !last {
                last = true
                plaintext = open(chunk, key: key, counter: counter, last: true)
            }
            guard let plaintext else { throw AgeError.payloadFailure("chunk \(counter) does not verify") }
            if last && plaintext.isEmpty && counter > 0 { throw AgeError.payloadFailure("empty final chunk") }
            try output(plaintext)
            if last {
                guard try reader.atEnd() else { throw AgeError.payloadFailure("data after the final chunk") }
                return
            }
            counter += 1
        }
    }
}

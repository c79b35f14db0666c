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

    /// The payload key as bytes, for ``ChunkCipher``.
    static func keyBytes(_ key: SymmetricKey) -> [UInt8] {
        key.withUnsafeBytes { Array($0) }
    }

    /// Decrypts the payload from `reader`, handing each chunk's plaintext to `output` as soon as it
    /// verifies (so plaintext before damage is released, as the format allows). Each chunk is read
    /// into one buffer and opened into another, both reused: a full chunk's plaintext is handed
    /// over without a copy.
    static func decrypt<Input>(
        _ reader: inout BufferedReader<Input>, key: SymmetricKey, output: ([UInt8]) throws -> Void
    ) throws {
        let cipher = try ChunkCipher(key: keyBytes(key), sealing: false)
        var sealed = [UInt8](repeating: 0, count: chunkSize + tagSize)
        var plaintext = [UInt8](repeating: 0, count: chunkSize)
        var counter: UInt64 = 0
        while true {
            let count = try sealed.withUnsafeMutableBytes { try reader.read(into: $0) }
            guard count > 0 else { throw AgeError.payloadFailure("the file ends without a final chunk") }
            guard count >= tagSize else { throw AgeError.payloadFailure("truncated chunk") }
            guard counter < (1 << 40) else { throw AgeError.payloadFailure("too many chunks") }
            // A short chunk must be the last; a full one is tried as a middle chunk, then as the last.
            var last = count < chunkSize + tagSize
            func open(last: Bool) -> Bool {
                sealed.withUnsafeBytes { sealed in
                    plaintext.withUnsafeMutableBytes { plaintext in
                        cipher.open(
                            UnsafeRawBufferPointer(rebasing: sealed[0..<count]), into: plaintext,
                            nonce: nonce(counter: counter, last: last))
                    }
                }
            }
            var opened = open(last: last)
            if !opened && !last {
                last = true
                opened = open(last: true)
            }
            guard opened else { throw AgeError.payloadFailure("chunk \(counter) does not verify") }
            let length = count - tagSize
            if last && length == 0 && counter > 0 { throw AgeError.payloadFailure("empty final chunk") }
            try output(length == chunkSize ? plaintext : Array(plaintext[0..<length]))
            if last {
                guard try reader.atEnd() else { throw AgeError.payloadFailure("data after the final chunk") }
                return
            }
            counter += 1
        }
    }

    /// Encrypts `input` as the payload, handing each sealed chunk to `output`. One chunk of
    /// lookahead tells whether the current chunk is the last; the two buffers are reused, each
    /// chunk is sealed where it was read, and a full chunk is handed over without a copy.
    static func encrypt(
        _ input: some AgeInput, key: SymmetricKey, output: ([UInt8]) throws -> Void
    ) throws {
        let cipher = try ChunkCipher(key: keyBytes(key), sealing: true)
        var reader = BufferedReader(input)
        // Fills a buffer's first chunkSize bytes (fewer only at the end of the input).
        func readChunk(into buffer: inout [UInt8]) throws -> Int {
            try buffer.withUnsafeMutableBytes {
                try reader.read(into: UnsafeMutableRawBufferPointer(rebasing: $0[0..<chunkSize]))
            }
        }
        var current = [UInt8](repeating: 0, count: chunkSize + tagSize)
        var next = [UInt8](repeating: 0, count: chunkSize + tagSize)
        var count = try readChunk(into: &current)
        var counter: UInt64 = 0
        while true {
            let nextCount = count < chunkSize ? 0 : try readChunk(into: &next)
            let last = nextCount == 0
            try current.withUnsafeMutableBytes {
                try cipher.seal($0, count: count, nonce: nonce(counter: counter, last: last))
            }
            try output(count == chunkSize ? current : Array(current[0..<(count + tagSize)]))
            if last { return }
            counter += 1
            swap(&current, &next)
            count = nextCount
        }
    }
}

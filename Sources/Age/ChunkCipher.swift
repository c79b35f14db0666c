import COpenSSL

/// ChaCha20-Poly1305 for the age payload through OpenSSL's EVP interface: one context for the
/// whole stream with its key set once, a new nonce per chunk, and the bytes sealed or opened where
/// they lie. (swift-crypto's `ChaChaPoly` returns each chunk in new `Data` and copies it again into
/// a sealed box: at 64 KiB a chunk those copies cost as much as the cipher; docs/PERFORMANCE.md.)
final class ChunkCipher {
    static let tagSize = AgeStream.tagSize

    private let context: OpaquePointer

    /// A cipher for one direction; `key` is the 32-byte payload key.
    init(key: [UInt8], sealing: Bool) throws {
        guard key.count == 32, let context = EVP_CIPHER_CTX_new() else {
            throw AgeError.payloadFailure("cannot set up ChaCha20-Poly1305")
        }
        self.context = context
        guard EVP_CipherInit_ex(context, EVP_chacha20_poly1305(), nil, key, nil, sealing ? 1 : 0) == 1 else {
            throw AgeError.payloadFailure("cannot set up ChaCha20-Poly1305")
        }
    }

    deinit { EVP_CIPHER_CTX_free(context) }

    /// Encrypts the first `count` bytes of `buffer` in place and writes the 16-byte tag after
    /// them (`buffer` holds at least `count + 16` bytes).
    func seal(_ buffer: UnsafeMutableRawBufferPointer, count: Int, nonce: [UInt8]) throws {
        precondition(buffer.count >= count + Self.tagSize)
        let bytes = buffer.baseAddress!.assumingMemoryBound(to: UInt8.self)
        var written: Int32 = 0
        guard EVP_CipherInit_ex(context, nil, nil, nil, nonce, 1) == 1,
            count == 0 || EVP_CipherUpdate(context, bytes, &written, bytes, Int32(count)) == 1,
            EVP_CipherFinal_ex(context, bytes + count, &written) == 1,
            EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_AEAD_GET_TAG, Int32(Self.tagSize), bytes + count) == 1
        else { throw AgeError.payloadFailure("ChaCha20-Poly1305 failed") }
    }

    /// Decrypts `sealed` (ciphertext, then its 16-byte tag) into the start of `plaintext`; false
    /// when the tag does not verify (what was written to `plaintext` is then meaningless).
    /// `sealed` is left as it was, so a chunk may be tried again under another nonce.
    func open(_ sealed: UnsafeRawBufferPointer, into plaintext: UnsafeMutableRawBufferPointer, nonce: [UInt8]) -> Bool {
        let count = sealed.count - Self.tagSize
        precondition(count >= 0 && plaintext.count >= count)
        let input = sealed.baseAddress!.assumingMemoryBound(to: UInt8.self)
        let output = plaintext.baseAddress!.assumingMemoryBound(to: UInt8.self)
        var written: Int32 = 0
        var tag = [UInt8](UnsafeBufferPointer(start: input + count, count: Self.tagSize))
        return EVP_CipherInit_ex(context, nil, nil, nil, nonce, 0) == 1
            && EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_AEAD_SET_TAG, Int32(Self.tagSize), &tag) == 1
            && (count == 0 || EVP_CipherUpdate(context, output, &written, input, Int32(count)) == 1)
            && EVP_CipherFinal_ex(context, output + count, &written) == 1
    }
}

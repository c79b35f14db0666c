import Crypto
import Foundation

/// Random secrets (session tokens, setup tokens, invite codes) and their stored digests.
public enum SecretToken {
    /// 32 random bytes (256 bits) as unpadded base64url: 43 characters, safe in URLs and cookies.
    public static func generate(bytes count: Int = 32) -> String {
        base64URL(randomBytes(count))
    }

    /// `count` random bytes from the system's CSPRNG.
    public static func randomBytes(_ count: Int) -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<count).map { _ in generator.next() }
    }

    /// 128 random bits as 26 lowercase base32 characters (`a-z`, `2-7`): easy to read out and type.
    public static func generateCode() -> String {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz234567")
        var output = ""
        var buffer = 0
        var bits = 0
        for byte in randomBytes(16) {
            buffer = (buffer << 8) | Int(byte)
            bits += 8
            while bits >= 5 {
                output.append(alphabet[(buffer >> (bits - 5)) & 31])
                bits -= 5
            }
        }
        if bits > 0 { output.append(alphabet[(buffer << (5 - bits)) & 31]) }
        return output
    }

    /// The SHA-256 of a token: what the database keeps instead of the token itself.
    public static func digest(_ token: String) -> Data {
        Data(SHA256.hash(data: Data(token.utf8)))
    }

    /// Unpadded base64url (RFC 4648 §5).
    public static func base64URL(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}

/// Lowercase hexadecimal, two digits a byte: digests in ETags, CSRF tokens and signatures.
///
/// By table rather than `String(format: "%02x")`, which costs a Foundation formatter per byte
/// (a webhook signature on every delivery showed it in the profile).
extension Sequence where Element == UInt8 {
    public var hexString: String {
        let digits: [UInt8] = Array("0123456789abcdef".utf8)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(underestimatedCount * 2)
        for byte in self {
            bytes.append(digits[Int(byte >> 4)])
            bytes.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

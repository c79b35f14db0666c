/// Why an age file could not be read or written. The cases follow the outcomes of the C2SP age
/// test vectors.
public enum AgeError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The header is malformed (or a stanza of a known type is).
    case headerFailure(String)
    /// No identity or passphrase opens any of the file's stanzas.
    case noMatch
    /// The header's MAC does not verify: the header was changed, or the key is wrong.
    case hmacFailure
    /// The payload is damaged, truncated or has trailing data. Plaintext before the damage may
    /// already have been released.
    case payloadFailure(String)
    /// The ASCII armor is malformed.
    case armorFailure(String)
    /// A key string (`age1…`, `AGE-SECRET-KEY-1…`) is malformed.
    case invalidKey(String)
    /// Reading or writing failed.
    case io(String)

    public var description: String {
        switch self {
        case .headerFailure(let reason): "not a valid age file: \(reason)"
        case .noMatch: "no identity or passphrase given matches this file (wrong key or passphrase)"
        case .hmacFailure: "the age header does not verify: the file was changed or the key is wrong"
        case .payloadFailure(let reason): "the encrypted data is damaged: \(reason)"
        case .armorFailure(let reason): "invalid ASCII armor: \(reason)"
        case .invalidKey(let reason): "invalid age key: \(reason)"
        case .io(let reason): reason
        }
    }
}

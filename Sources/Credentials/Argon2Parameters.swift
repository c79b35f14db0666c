/// The cost parameters of an Argon2id hash, as carried in its PHC string.
public struct Argon2Parameters: Sendable, Equatable, CustomStringConvertible {
    /// Memory in KiB (`m`).
    public var memoryKiB: UInt32
    /// Passes over memory (`t`).
    public var iterations: UInt32
    /// Lanes (`p`).
    public var parallelism: UInt32

    /// Creates a parameter set.
    public init(memoryKiB: UInt32, iterations: UInt32, parallelism: UInt32) {
        self.memoryKiB = memoryKiB
        self.iterations = iterations
        self.parallelism = parallelism
    }

    /// The OWASP recommendation Hearth uses by default: m=19456 KiB, t=2, p=1.
    public static let `default` = Argon2Parameters(memoryKiB: 19_456, iterations: 2, parallelism: 1)

    /// The most a stored hash may ask for before Hearth refuses to verify it: a hash planted with
    /// huge parameters must not make one sign-in take the machine down.
    public static let ceiling = Argon2Parameters(memoryKiB: 262_144, iterations: 16, parallelism: 8)

    /// True when every parameter is at most the ceiling's.
    public func fits(under ceiling: Argon2Parameters) -> Bool {
        memoryKiB <= ceiling.memoryKiB && iterations <= ceiling.iterations && parallelism <= ceiling.parallelism
    }

    /// True when the parameters are ones libargon2 accepts.
    public var isValid: Bool {
        memoryKiB >= 8 * max(parallelism, 1) && iterations >= 1 && (1...255).contains(parallelism)
    }

    public var description: String { "m=\(memoryKiB),t=\(iterations),p=\(parallelism)" }

    /// Reads the parameters of a PHC string `$argon2id$v=19$m=…,t=…,p=…$salt$hash`;
    /// nil when it is not an Argon2id hash of version 19.
    public init?(phc: String) {
        let parts = phc.split(separator: "$", omittingEmptySubsequences: false)
        guard parts.count == 6, parts[0].isEmpty, parts[1] == "argon2id", parts[2] == "v=19",
            !parts[4].isEmpty, !parts[5].isEmpty
        else { return nil }
        var values: [Substring: UInt32] = [:]
        for field in parts[3].split(separator: ",") {
            let pair = field.split(separator: "=", maxSplits: 1)
            guard pair.count == 2, let value = UInt32(pair[1]), values[pair[0]] == nil else { return nil }
            values[pair[0]] = value
        }
        guard values.count == 3, let m = values["m"], let t = values["t"], let p = values["p"] else { return nil }
        self.init(memoryKiB: m, iterations: t, parallelism: p)
    }
}

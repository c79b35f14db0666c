import Foundation

/// The rules for usernames, passwords and device names, checked before anything is hashed or stored.
public struct AccountRules: Sendable {
    /// Names nobody may register: they would confuse people or impersonate the server.
    public static let reservedUsernames: Set<String> = [
        "abuse", "admin", "administrator", "all", "api", "bot", "everyone", "hearth", "help", "here",
        "hostmaster", "info", "me", "mod", "moderator", "noreply", "no-reply", "null", "owner", "postmaster",
        "root", "security", "server", "setup", "staff", "support", "sysadmin", "system", "undefined",
        "webmaster", "www",
    ]

    let limits: HearthConfiguration.Limits

    /// Rules under the given limits.
    public init(limits: HearthConfiguration.Limits) {
        self.limits = limits
    }

    /// The canonical (lowercase) form of a valid username, or the reason it is not one.
    public func username(_ raw: String) throws(ServiceError) -> String {
        let name = raw.lowercased()
        guard (3...32).contains(name.count) else {
            throw .invalidUsername("it has \(name.count) characters")
        }
        let allowed = Set("abcdefghijklmnopqrstuvwxyz0123456789._-")
        guard name.allSatisfy({ allowed.contains($0) }) else {
            throw .invalidUsername("it contains a character outside that set")
        }
        guard let first = name.first, first.isLetter || first.isNumber else {
            throw .invalidUsername("it must start with a letter or a digit")
        }
        guard !Self.reservedUsernames.contains(name) else { throw .usernameReserved }
        return name
    }

    /// Checks a new password: long enough, not too long, not common, not the username.
    public func checkNewPassword(_ password: String, username: String) throws(ServiceError) {
        guard password.utf8.count <= limits.passwordMaxBytes else {
            throw .passwordTooLong(maximumBytes: limits.passwordMaxBytes)
        }
        guard password.count >= limits.passwordMinCharacters else {
            throw .passwordTooShort(minimum: limits.passwordMinCharacters)
        }
        let folded = password.lowercased()
        if CommonPasswords.list.contains(folded) || Set(folded).count < 4 || folded == username
            || (username.count >= 5 && folded.contains(username))
        {
            throw .passwordTooCommon
        }
    }

    /// A trimmed device name, `fallback` when empty or missing, or the reason it is not acceptable.
    public func deviceName(_ raw: String?, fallback: String) throws(ServiceError) -> String {
        let name = (raw ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        if name.isEmpty { return fallback }
        guard name.count <= limits.deviceNameMaxCharacters else {
            throw .invalidDeviceName("at most \(limits.deviceNameMaxCharacters) characters")
        }
        guard !name.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw .invalidDeviceName("control characters are not allowed")
        }
        return name
    }

    /// A short device name made from a User-Agent, such as "Firefox on Linux".
    public static func deviceName(fromUserAgent userAgent: String?) -> String {
        guard let agent = userAgent, !agent.isEmpty else { return "Unnamed device" }
        let browsers = [("Edg/", "Edge"), ("Firefox/", "Firefox"), ("Chrome/", "Chrome"), ("Safari/", "Safari")]
        let systems = [
            ("iPhone", "iPhone"), ("iPad", "iPad"), ("Android", "Android"), ("Windows", "Windows"),
            ("Mac OS X", "macOS"), ("CrOS", "ChromeOS"), ("Linux", "Linux"),
        ]
        let browser = browsers.first { agent.contains($0.0) }?.1
        let system = systems.first { agent.contains($0.0) }?.1
        switch (browser, system) {
        case (let browser?, let system?): return "\(browser) on \(system)"
        case (let browser?, nil): return browser
        case (nil, let system?): return system
        default: return String(agent.prefix(32))
        }
    }
}

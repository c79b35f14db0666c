import Storage

/// Who did something the audit log records: a signed-in user (with the address they came from),
/// the command line, or the server itself.
public struct AuditActor: Sendable, Equatable {
    public let userID: Int64?
    public let name: String
    public let ip: String?

    /// The `hearth` command line on the server machine.
    public static let cli = AuditActor(userID: nil, name: "cli", ip: nil)
    /// The server acting on its own (rules, schedules).
    public static let server = AuditActor(userID: nil, name: "server", ip: nil)

    /// A signed-in user, from `ip`.
    public init(user: User, ip: String?) {
        self.init(userID: user.id, name: user.username, ip: ip)
    }

    init(userID: Int64?, name: String, ip: String?) {
        self.userID = userID
        self.name = name
        self.ip = ip
    }
}

extension Store {
    /// Appends one entry by `actor` to the audit log.
    func audit(_ actor: AuditActor, _ action: String, target: String?, detail: String? = nil, now: Int64) throws {
        try audit(
            actorID: actor.userID, actor: actor.name, action: action, target: target, detail: detail, ip: actor.ip,
            now: now)
    }
}

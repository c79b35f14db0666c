import Credentials
import Foundation
import Logging
import Storage

/// Invites: codes that let someone register while registration is invite-only.
public final class Invites: Sendable {
    /// Where an invite stands.
    public enum Status: String, Sendable {
        case active, expired, usedUp = "used up", revoked
    }

    let database: AppDatabase
    let limits: HearthConfiguration.Limits
    let clock: @Sendable () -> Date
    let logger: Logger

    init(
        database: AppDatabase, limits: HearthConfiguration.Limits, clock: @escaping @Sendable () -> Date, logger: Logger
    ) {
        self.database = database
        self.limits = limits
        self.clock = clock
        self.logger = logger
    }

    var now: Int64 { clock().epochMilliseconds }

    /// Creates an invite for `uses` registrations, valid for `lifetime` seconds (default seven days).
    public func create(
        uses: Int = 1, lifetime: TimeInterval? = nil, admin: Bool = false, by actor: AuditActor = .cli
    )
        async throws -> Invite
    {
        guard (1...limits.inviteMaxUses).contains(uses) else {
            throw ServiceError.invalidInviteOptions("uses must be between 1 and \(limits.inviteMaxUses)")
        }
        let lifetime = lifetime ?? limits.inviteDefaultLifetime
        guard lifetime >= 60, lifetime <= limits.inviteMaxLifetime else {
            throw ServiceError.invalidInviteOptions(
                "the expiry must be between 1 minute and \(Int(limits.inviteMaxLifetime / 86_400)) days")
        }
        let now = self.now
        let code = SecretToken.generateCode()
        let invite = try await run {
            try await database.write { store in
                let invite = try store.insertInvite(
                    code: code, createdBy: actor.userID, maxUses: uses, admin: admin,
                    expiresAt: now + Int64(lifetime * 1000), now: now)
                try store.audit(
                    actor, "invite_created", target: "invite \(invite.id)",
                    detail: "\(uses) use\(uses == 1 ? "" : "s"), \(Int(lifetime / 3600)) h\(admin ? ", admin" : "")",
                    now: now)
                return invite
            }
        }
        logger.info("invite created", metadata: ["invite": "\(invite.id)", "uses": "\(uses)", "admin": "\(admin)"])
        return invite
    }

    /// Every invite, newest first.
    public func list() async throws -> [Invite] {
        try await run { try await database.read { try $0.invites() } }
    }

    /// Revokes the invite with this code; ``ServiceError/notFound(_:)`` when there is none.
    public func revoke(code: String, by actor: AuditActor = .cli) async throws {
        let now = self.now
        let code = code.lowercased()
        try await run {
            try await database.write { store in
                guard let invite = try store.invite(code: code) else { throw ServiceError.notFound("Invite \(code)") }
                try store.revokeInvite(id: invite.id, now: now)
                try store.audit(actor, "invite_revoked", target: "invite \(invite.id)", now: now)
            }
        }
        logger.info("invite revoked")
    }

    /// Where an invite stands now.
    public func status(of invite: Invite) -> Status {
        if invite.revokedAt != nil { return .revoked }
        if let expiry = invite.expiresAt, expiry <= now { return .expired }
        if invite.uses >= invite.maxUses { return .usedUp }
        return .active
    }

    /// Parses a lifetime such as `30m`, `12h`, `7d` or `2w` into seconds; nil when malformed.
    public static func parseLifetime(_ text: String) -> TimeInterval? {
        let units: [Character: TimeInterval] = ["m": 60, "h": 3_600, "d": 86_400, "w": 604_800]
        guard let unit = text.last.flatMap({ units[$0] }), let count = Int(text.dropLast()), count > 0 else {
            return nil
        }
        return TimeInterval(count) * unit
    }
}

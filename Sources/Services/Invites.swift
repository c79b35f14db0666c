import Credentials
import Foundation
import Logging
import Storage

/// Invites: codes that let someone register while registration is invite-only.
public final class Invites: ContextualService {
    /// Where an invite stands.
    public enum Status: String, Sendable {
        case active, expired, usedUp = "used up", revoked
    }

    let limits: HearthConfiguration.Limits

    let context: ServiceContext

    init(
        context: ServiceContext, limits: HearthConfiguration.Limits
    ) {
        self.context = context
        self.limits = limits
    }

    /// A new invite and its code: the only time the code exists outside the link given out.
    public struct Created: Sendable {
        public let invite: Invite
        /// 128 random bits in lowercase base32; what `register` takes as `invite`.
        public let code: String
    }

    /// Creates an invite for `uses` registrations, valid for `lifetime` seconds (default seven
    /// days). Only the code's SHA-256 is stored: the code is returned here, once.
    public func create(
        uses: Int = 1, lifetime: TimeInterval? = nil, admin: Bool = false, by actor: AuditActor = .cli
    )
        async throws -> Created
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
                    codeHash: SecretToken.digest(code), createdBy: actor.userID, maxUses: uses, admin: admin,
                    expiresAt: now + Int64(lifetime * 1000), now: now)
                try store.audit(
                    actor, "invite_created", target: "invite \(invite.id)",
                    detail: "\(uses) use\(uses == 1 ? "" : "s"), \(Int(lifetime / 3600)) h\(admin ? ", admin" : "")",
                    now: now)
                return invite
            }
        }
        logger.info("invite created", metadata: ["invite": "\(invite.id)", "uses": "\(uses)", "admin": "\(admin)"])
        return Created(invite: invite, code: code)
    }

    /// Every invite, newest first.
    public func list() async throws -> [Invite] {
        try await run { try await database.read { try $0.invites() } }
    }

    /// Invites, newest first, `limit` at a time before the id `before` (the admin panel's pages).
    public func list(before: Int64?, limit: Int) async throws -> [Invite] {
        try await run { try await database.read { try $0.invites(before: before, limit: limit) } }
    }

    /// Revokes the invite with this code; ``ServiceError/notFound(_:)`` when there is none.
    public func revoke(code: String, by actor: AuditActor = .cli) async throws {
        let digest = SecretToken.digest(code.trimmingCharacters(in: .whitespaces).lowercased())
        try await revoke(by: actor) { try $0.invite(codeHash: digest) }
    }

    /// Revokes the invite with this id (as `hearth invite list` and the admin panel show it).
    public func revoke(id: Int64, by actor: AuditActor = .cli) async throws {
        try await revoke(by: actor) { try $0.invite(id: id) }
    }

    private func revoke(by actor: AuditActor, _ find: @escaping @Sendable (Store) throws -> Invite?) async throws {
        let now = self.now
        let id = try await run {
            try await database.write { store in
                guard let invite = try find(store) else { throw ServiceError.notFound("That invite") }
                try store.revokeInvite(id: invite.id, now: now)
                try store.audit(actor, "invite_revoked", target: "invite \(invite.id)", now: now)
                return invite.id
            }
        }
        logger.info("invite revoked", metadata: ["invite": "\(id)"])
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

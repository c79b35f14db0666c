import Credentials
import Foundation
import Logging
import Storage

/// New accounts: registration by the HTTP API, the registration mode, and the first admin's setup.
public final class Registration: GatedService {
    /// The registration modes an admin can choose.
    public enum Mode: String, Sendable, CaseIterable {
        /// Anyone who can reach the server may register.
        case open
        /// Registering needs a valid invite (the default).
        case invite
        /// Only the admin creates accounts.
        case closed
    }

    static let modeKey = "registration_mode"

    let gate: AccountGate
    let context: ServiceContext

    init(context: ServiceContext, gate: AccountGate) {
        self.context = context
        self.gate = gate
    }

    /// Creates an account and its first device, as `POST /api/v1/register` does.
    ///
    /// Checks, in order: the per-address throttle, the username and password rules, the
    /// registration mode and the invite; only then hashes, and stores user, device and the
    /// invite's use in one transaction.
    public func register(
        username rawUsername: String, password: String, invite: String?, deviceName: String?, client: Client
    ) async throws -> SignedIn {
        // Every attempt counts, successful or not (in open mode this bounds the accounts one
        // address can make); counted before anything else, in one step with the check.
        let throttleKey = "register:\(client.throttleAddress)"
        if let wait = throttle.reserve([(throttleKey, policies.registerPerAddress)]) {
            throw ServiceError.rateLimited(retryAfter: wait)
        }

        let username = try rules.username(rawUsername)
        try rules.checkNewPassword(password, username: username)
        let device = try rules.deviceName(
            deviceName, fallback: AccountRules.deviceName(fromUserAgent: client.userAgent))
        let code = invite.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }.flatMap { $0.isEmpty ? nil : $0 }

        // Everything that can be refused without hashing is refused before it.
        let now = self.now
        try await run {
            try await database.read { store in
                _ = try Self.checkRegistration(store, code: code, now: now)
                if try store.user(named: username) != nil { throw ServiceError.usernameTaken }
            }
        }
        let hash = try await run { try await hasher.hash(password) }
        let token = SecretToken.generate()
        let cap = devicesPerUser
        let signedIn = try await run {
            try await database.write { store in
                let invite = try Self.checkRegistration(store, code: code, now: now)
                let role: User.Role = invite?.admin == true ? .admin : .member
                let how =
                    try invite.map { invite in
                        let from = try invite.createdBy.flatMap { try store.user(id: $0)?.username }
                        return from.map { "with an invite from \($0)" } ?? "with an invite"
                    } ?? "by open registration"
                let user = try Accounts.insertUser(
                    store, User(username: username, passwordHash: hash, role: role, createdAt: now),
                    by: nil, ip: client.ip, how: how)
                if let invite { try store.useInvite(id: invite.id) }
                let stored = try Sessions.insertDevice(
                    store, userID: user.id, name: device, client: client, token: token, now: now, cap: cap)
                return SignedIn(user: user, device: stored, token: token)
            }
        }
        logger.info(
            "registered", metadata: ["user": "\(signedIn.user.username)", "role": "\(signedIn.user.role.rawValue)"])
        return signedIn
    }

    /// The invite a registration uses (nil in open mode without one), or why it may not happen.
    static func checkRegistration(_ store: Store, code: String?, now: Int64) throws -> Invite? {
        let mode = try Self.mode(store)
        if mode == .closed { throw ServiceError.registrationClosed }
        guard let code else {
            if mode == .invite { throw ServiceError.inviteRequired }
            return nil
        }
        guard let invite = try store.invite(codeHash: SecretToken.digest(code)) else {
            throw ServiceError.inviteInvalid
        }
        if invite.revokedAt != nil { throw ServiceError.inviteRevoked }
        if let expiry = invite.expiresAt, expiry <= now { throw ServiceError.inviteExpired }
        if invite.uses >= invite.maxUses { throw ServiceError.inviteUsedUp }
        return invite
    }

    /// What the invite page says about an invite before anyone registers with it.
    public struct Invitation: Sendable, Equatable {
        /// Who made it (nil when its maker is gone, or it came from the command line).
        public let invitedBy: String?
        /// Whether whoever registers with it becomes an admin.
        public let admin: Bool
        public let expiresAt: Int64?
    }

    /// The invite behind `code`, if it can still be used; otherwise why not, as registering
    /// with it would say (`invite_invalid`, `invite_expired`, `invite_used_up`, …).
    public func invitation(code: String) async throws -> Invitation {
        let now = now
        return try await run {
            try await database.read { store in
                guard let invite = try Self.checkRegistration(store, code: code, now: now) else {
                    throw ServiceError.inviteInvalid
                }
                let maker = try invite.createdBy.flatMap { try store.user(id: $0) }
                return Invitation(invitedBy: maker?.username, admin: invite.admin, expiresAt: invite.expiresAt)
            }
        }
    }

    /// The current registration mode.
    public func mode() async throws -> Mode {
        try await run { try await database.read { try Self.mode($0) } }
    }

    /// Changes the registration mode.
    public func setMode(_ mode: Mode, by actor: AuditActor = .cli) async throws {
        let now = self.now
        try await run {
            try await database.write { store in
                try store.setSetting(Self.modeKey, to: mode.rawValue)
                try store.audit(actor, "setting_changed", target: "registration", detail: mode.rawValue, now: now)
            }
        }
        logger.info("registration mode changed", metadata: ["mode": "\(mode.rawValue)"])
    }

    static func mode(_ store: Store) throws -> Mode {
        try store.setting(modeKey).flatMap(Mode.init(rawValue:)) ?? .invite
    }

}

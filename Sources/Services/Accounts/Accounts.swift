import Credentials
import Foundation
import Logging
import Storage

/// Account administration, for the CLI and the admin panel: creating, finding, disabling, roles,
/// deleting, and password resets.
public final class Accounts: ContextualService {
    let hasher: PasswordHasher
    let rules: AccountRules
    let passwordResetLifetime: TimeInterval
    let context: ServiceContext

    init(context: ServiceContext, hasher: PasswordHasher, configuration: HearthConfiguration) {
        self.context = context
        self.hasher = hasher
        rules = AccountRules(limits: configuration.limits)
        passwordResetLifetime = configuration.passwordResetLifetime
    }

    /// Inserts a user, refusing a taken name with ``ServiceError/usernameTaken`` (checked inside
    /// the write transaction, so no other insert can come between); an admin makes any setup
    /// token void.
    /// Stores a new account, and writes it to the audit log: every account creation is there,
    /// with how it came about (`how`: "with the setup link", "with an invite from mum", …), by
    /// `actor`, or (nil) by the new user themself from `ip`.
    static func insertUser(
        _ store: Store, _ user: User, by actor: AuditActor?, ip: String? = nil, how: String
    ) throws -> User {
        guard try store.user(named: user.username) == nil else { throw ServiceError.usernameTaken }
        let stored = try store.insertUser(user)
        if stored.role == .admin { try store.deleteSetupTokens() }
        let role = stored.role == .member ? "a member" : "an \(stored.role.rawValue)"
        try store.audit(
            actor ?? AuditActor(user: stored, ip: ip), "user_created", target: stored.username,
            detail: "as \(role), \(how)", now: user.createdAt)
        return stored
    }

    /// Creates an account directly (`hearth user add`), whatever the registration mode.
    public func createUser(
        username rawUsername: String, password: String, role: User.Role, by actor: AuditActor = .cli
    ) async throws -> User {
        let username = try rules.username(rawUsername)
        try rules.checkNewPassword(password, username: username)
        let hash = try await run { try await hasher.hash(password) }
        let now = self.now
        let user = try await run {
            try await database.write { store in
                try Self.insertUser(
                    store, User(username: username, passwordHash: hash, role: role, createdAt: now), by: actor,
                    how: actor == .cli ? "from the command line" : "in the admin panel")
            }
        }
        logger.info("user created", metadata: ["user": "\(user.username)", "role": "\(role.rawValue)"])
        return user
    }

    /// Every account.
    public func users() async throws -> [User] {
        try await run { try await database.read { try $0.users() } }
    }

    /// Accounts whose name contains `search`, by name, `limit` at a time after the name `after`.
    public func users(search: String, after: String?, limit: Int) async throws -> [User] {
        try await run { try await database.read { try $0.users(search: search, after: after, limit: limit) } }
    }

    /// One account by name; ``ServiceError/notFound(_:)`` when there is none.
    public func user(named username: String) async throws -> User {
        let user = try await run { try await database.read { try $0.user(named: username) } }
        guard let user else { throw ServiceError.notFound("User \(username)") }
        return user
    }

    /// Disables an account and ends all its sessions at once; returns how many sessions ended.
    /// Staff acting for themselves (`role` is theirs) may not disable their own account, and a
    /// moderator may disable members only.
    @discardableResult
    public func disable(
        username: String, reason: String? = nil, by actor: AuditActor = .cli, role: User.Role = .admin
    ) async throws -> Int {
        let now = self.now
        let (userID, ended) = try await modify(username, by: actor, "user_disabled", detail: reason) { store, user in
            try Self.checkStaffMayAct(on: user, actor: actor, role: role)
            try store.setDisabled(userID: user.id, true)
            return (user.id, try store.revokeDevices(userID: user.id, now: now))
        }
        live.sessionsEnded(userID: userID)
        return ended
    }

    /// Whether staff with `role` may act on `target`: never on their own account, and a moderator
    /// only on members. The one place this policy is decided (mutes follow it too).
    static func checkStaffMayAct(on target: User, actor: AuditActor, role: User.Role) throws {
        guard target.id != actor.userID else {
            throw ServiceError.invalidDecision("You cannot do that to your own account.")
        }
        guard role >= .admin || target.role == .member else { throw ServiceError.forbidden }
    }

    /// Enables a disabled account.
    public func enable(username: String, by actor: AuditActor = .cli) async throws {
        try await modify(username, by: actor, "user_enabled") { store, user in
            try store.setDisabled(userID: user.id, false)
        }
    }

    /// Gives an account another role. The last enabled admin cannot stop being one.
    public func setRole(username: String, to role: User.Role, by actor: AuditActor = .cli) async throws {
        try await modify(username, by: actor, "role_changed", detail: role.rawValue) { store, user in
            if user.role == .admin, role != .admin, try store.adminCount() <= 1 {
                throw ServiceError.invalidField("\(user.username) is the only admin; make someone else admin first.")
            }
            try store.setRole(userID: user.id, role)
        }
    }

    /// Deletes an account and its devices; an admin cannot delete their own.
    public func delete(username: String, by actor: AuditActor = .cli) async throws {
        let userID = try await modify(username, by: actor, "user_deleted") { store, user in
            try Self.checkStaffMayAct(on: user, actor: actor, role: .admin)
            try store.deleteUser(id: user.id)
            return user.id
        }
        live.sessionsEnded(userID: userID)
        logger.info("user deleted", metadata: ["user": "\(username.lowercased())"])
    }

    /// Sets a new password and ends all of the account's sessions and outstanding reset links.
    public func resetPassword(username: String, password: String, by actor: AuditActor = .cli) async throws {
        let user = try await self.user(named: username)
        try rules.checkNewPassword(password, username: user.username)
        let hash = try await run { try await hasher.hash(password) }
        let now = self.now
        try await modify(username, by: actor, "password_reset") { store, user in
            try store.setPasswordHash(userID: user.id, to: hash)
            try store.endPasswordResets(userID: user.id, now: now)
            try store.revokeDevices(userID: user.id, now: now)
        }
        live.sessionsEnded(userID: user.id)
        logger.info("password reset", metadata: ["user": "\(user.username)"])
    }

    // MARK: Password reset links

    /// Creates a one-time link code with which `username` chooses a new password (the admin
    /// panel's "reset password"); only its hash is stored. Returns the code and its expiry.
    public func createPasswordReset(
        username: String, by actor: AuditActor
    ) async throws -> (
        code: String, expiresAt: Int64
    ) {
        let code = SecretToken.generate()
        let now = self.now
        let expiresAt = now + Int64(passwordResetLifetime * 1000)
        try await modify(username, by: actor, "password_reset_link_created") { store, user in
            try store.insertPasswordReset(
                codeHash: SecretToken.digest(code), userID: user.id, createdBy: actor.userID, now: now,
                expiresAt: expiresAt)
        }
        return (code, expiresAt)
    }

    /// The account a reset code is for; ``ServiceError/linkInvalid`` for an unknown code,
    /// ``ServiceError/linkExpired`` for a used or expired one.
    public func passwordResetUser(code: String) async throws -> User {
        let now = self.now
        return try await run {
            try await database.read { store in
                guard code.utf8.count <= 128,
                    let reset = try store.passwordReset(codeHash: SecretToken.digest(code), now: now),
                    let user = try store.user(id: reset.userID)
                else { throw ServiceError.linkInvalid }
                guard reset.usable, !user.disabled else { throw ServiceError.linkExpired }
                return user
            }
        }
    }

    /// Sets a new password with a reset code: checks the password rules, ends every session of the
    /// account, burns the code and every other reset link of the account, and writes the audit log.
    public func resetPassword(code: String, password: String, client: Client) async throws -> User {
        let user = try await passwordResetUser(code: code)
        try rules.checkNewPassword(password, username: user.username)
        let hash = try await run { try await hasher.hash(password) }
        let now = self.now
        let digest = SecretToken.digest(code)
        try await run {
            try await database.write { store in
                // Checked again inside the transaction: two tabs cannot both use the code.
                guard let reset = try store.passwordReset(codeHash: digest, now: now), reset.usable else {
                    throw ServiceError.linkExpired
                }
                try store.usePasswordReset(codeHash: digest, now: now)
                try store.endPasswordResets(userID: user.id, now: now)
                try store.setPasswordHash(userID: user.id, to: hash)
                try store.revokeDevices(userID: user.id, now: now)
                try store.audit(
                    AuditActor(user: user, ip: client.ip), "password_reset_link_used", target: user.username, now: now)
            }
        }
        live.sessionsEnded(userID: user.id)
        logger.info("password reset with a link", metadata: ["user": "\(user.username)"])
        return user
    }

    /// Runs `change` on a named user in one transaction, with its audit entry.
    @discardableResult
    private func modify<T: Sendable>(
        _ username: String, by actor: AuditActor, _ action: String, detail: String? = nil,
        _ change: @escaping @Sendable (Store, User) throws -> T
    )
        async throws -> T
    {
        let now = self.now
        return try await run {
            try await database.write { store in
                guard let user = try store.user(named: username) else {
                    throw ServiceError.notFound("User \(username)")
                }
                let result = try change(store, user)
                try store.audit(actor, action, target: user.username, detail: detail, now: now)
                return result
            }
        }
    }
}

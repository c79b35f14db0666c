import Credentials
import Foundation
import Logging
import Storage

/// Registration, sign-in, sessions and account management: one code path for the HTTP API and the CLI.
public final class Accounts: ContextualService {
    /// The registration modes an admin can choose.
    public enum RegistrationMode: String, Sendable, CaseIterable {
        /// Anyone who can reach the server may register.
        case open
        /// Registering needs a valid invite (the default).
        case invite
        /// Only the admin creates accounts.
        case closed
    }

    static let registrationModeKey = "registration_mode"
    /// How rarely a device's last-seen time is written, in milliseconds.
    static let touchInterval: Int64 = 60_000

    let hasher: PasswordHasher
    let throttle: Throttle
    let rules: AccountRules
    let policies: HearthConfiguration.ThrottlePolicies
    let devicesPerUser: Int
    let passwordResetLifetime: TimeInterval
    let sessionLimits: HearthConfiguration.SessionLimits

    let context: ServiceContext

    init(
        context: ServiceContext, hasher: PasswordHasher, throttle: Throttle, configuration: HearthConfiguration
    ) {
        self.context = context
        self.hasher = hasher
        self.throttle = throttle
        self.rules = AccountRules(limits: configuration.limits)
        self.policies = configuration.throttles
        self.devicesPerUser = configuration.limits.devicesPerUser
        self.passwordResetLifetime = configuration.passwordResetLifetime
        self.sessionLimits = configuration.sessions
    }

    // MARK: Registration

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
                let user = try Self.insertUser(
                    store, User(username: username, passwordHash: hash, role: role, createdAt: now))
                if let invite { try store.useInvite(id: invite.id) }
                let stored = try Self.insertDevice(
                    store, userID: user.id, name: device, client: client, token: token, now: now, cap: cap)
                return SignedIn(user: user, device: stored, token: token)
            }
        }
        logger.info(
            "registered", metadata: ["user": "\(signedIn.user.username)", "role": "\(signedIn.user.role.rawValue)"])
        return signedIn
    }

    /// Adds a device with a session for `token`, unless the user already has `cap` devices.
    static func insertDevice(
        _ store: Store, userID: Int64, name: String, client: Client, token: String, now: Int64, cap: Int,
        pending: Bool = false, kind: Device.Kind = .chat
    ) throws -> Device {
        guard try store.activeDeviceCount(userID: userID) < cap else { throw ServiceError.tooManyDevices(limit: cap) }
        return try store.insertDevice(
            userID: userID, name: name, userAgent: client.userAgent, ip: client.ip,
            tokenHash: SecretToken.digest(token), now: now, pending: pending, kind: kind)
    }

    /// The invite a registration uses (nil in open mode without one), or why it may not happen.
    static func checkRegistration(_ store: Store, code: String?, now: Int64) throws -> Invite? {
        let mode = try registrationMode(store)
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

    /// Inserts a user, refusing a taken name with ``ServiceError/usernameTaken`` (checked inside
    /// the write transaction, so no other insert can come between); an admin makes any setup
    /// token void.
    static func insertUser(_ store: Store, _ user: User) throws -> User {
        guard try store.user(named: user.username) == nil else { throw ServiceError.usernameTaken }
        let stored = try store.insertUser(user)
        if stored.role == .admin { try store.deleteSetupTokens() }
        return stored
    }

    /// The current registration mode.
    public func registrationMode() async throws -> RegistrationMode {
        try await run { try await database.read { try Self.registrationMode($0) } }
    }

    /// Changes the registration mode.
    public func setRegistrationMode(_ mode: RegistrationMode, by actor: AuditActor = .cli) async throws {
        let now = self.now
        try await run {
            try await database.write { store in
                try store.setSetting(Self.registrationModeKey, to: mode.rawValue)
                try store.audit(actor, "setting_changed", target: "registration", detail: mode.rawValue, now: now)
            }
        }
        logger.info("registration mode changed", metadata: ["mode": "\(mode.rawValue)"])
    }

    static func registrationMode(_ store: Store) throws -> RegistrationMode {
        try store.setting(registrationModeKey).flatMap(RegistrationMode.init(rawValue:)) ?? .invite
    }

    // MARK: Sign-in

    /// Signs in with a password and creates a device, as `POST /api/v1/login` does.
    ///
    /// Throttled per (account, address) and per address before any hashing: the attempt is
    /// counted against both before its hash, and given back if it succeeds, so sign-ins that
    /// arrive together reach the hasher no more often than the free counts allow. Refused with
    /// ``ServiceError/busy(retryAfter:)`` before any other work when the hashing queue is full;
    /// an unknown username is verified against a dummy hash so it costs the same time and gives
    /// the same error as a wrong password. A hash with outdated parameters is replaced after a
    /// successful check.
    /// `kind` says what the session is for: the admin panel's sessions have their own lifetimes.
    public func login(
        username rawUsername: String, password: String, deviceName: String?, client: Client,
        kind: Device.Kind = .chat
    )
        async throws -> SignedIn
    {
        let username = rawUsername.lowercased()
        let accountKey = "login:\(username)|\(client.throttleAddress)"
        let addressKey = "login:\(client.throttleAddress)"
        let accountPolicy = policies.loginPerAccount
        let addressPolicy = policies.loginPerAddress
        // Every sign-in hashes; when no hash can be queued, shed before any other work.
        if hasher.isBusy { throw ServiceError.translating(PasswordHasherError.busy) }
        let device = try rules.deviceName(
            deviceName, fallback: AccountRules.deviceName(fromUserAgent: client.userAgent))
        if let wait = throttle.reserve([(accountKey, accountPolicy), (addressKey, addressPolicy)]) {
            throw ServiceError.rateLimited(retryAfter: wait)
        }
        let user: User?
        do {
            user = try await run { try await database.read { try $0.user(named: username) } }
        } catch {
            // Not an attempt at the password: nothing to count.
            throttle.release(accountKey, policy: accountPolicy)
            throttle.release(addressKey, policy: addressPolicy)
            throw error
        }

        var verification = PasswordHasher.Verification.invalid
        if password.utf8.count > rules.limits.passwordMaxBytes {
            // Never hash an oversized password, but spend the time anyway.
            try await run { try await hasher.verifyDummy("") }
        } else if let user {
            do {
                verification = try await hasher.verify(password, against: user.passwordHash)
            } catch PasswordHasherError.unsupportedHash {
                logger.error("stored password hash is not usable", metadata: ["user": "\(user.username)"])
            } catch {
                // The hasher refused it (its queue filled meanwhile): no password was checked.
                throttle.release(accountKey, policy: accountPolicy)
                throttle.release(addressKey, policy: addressPolicy)
                throw ServiceError.translating(error)
            }
        } else {
            try await run { try await hasher.verifyDummy(password) }
        }
        // A failure keeps its count (reserved above).
        guard let user, case .valid(let needsRehash) = verification else { throw ServiceError.invalidCredentials }
        throttle.reset(accountKey)
        throttle.release(addressKey, policy: addressPolicy)
        if user.disabled { throw ServiceError.accountDisabled }

        let newHash = needsRehash ? try? await hasher.hash(password) : nil
        let cap = devicesPerUser
        let token = SecretToken.generate()
        let now = self.now
        return try await run {
            try await database.write { store in
                if let newHash { try store.setPasswordHash(userID: user.id, to: newHash) }
                let stored = try Self.insertDevice(
                    store, userID: user.id, name: device, client: client, token: token, now: now, cap: cap, kind: kind)
                return SignedIn(user: user, device: stored, token: token)
            }
        }
    }

    /// The user and device a session token belongs to; ``ServiceError/unauthorized`` when it is
    /// unknown, signed out, revoked, past its idle or absolute lifetime (then it ends now), or
    /// its user is disabled.
    public func authenticate(token: String, client: Client) async throws -> Session {
        guard !token.isEmpty, token.utf8.count <= 128 else { throw ServiceError.unauthorized }
        let digest = SecretToken.digest(token)
        guard let (user, device) = try await run({ try await database.read { try $0.session(tokenHash: digest) } })
        else { throw ServiceError.unauthorized }
        let now = self.now
        if now - device.lastSeenAt > sessionLimits.idleTimeout.milliseconds
            || now - device.createdAt > sessionLimits.maxAge.milliseconds
        {
            try await run { try await database.write { try $0.revokeDevice(id: device.id, now: now) } }
            logger.info("session expired", metadata: ["device": "\(device.id)"])
            throw ServiceError.unauthorized
        }
        if now - device.lastSeenAt >= Self.touchInterval {
            _ = try? await database.write { try $0.touchDevice(id: device.id, now: now, ip: client.ip) }
        }
        return Session(user: user, device: device)
    }

    /// Ends the sessions past their idle or absolute lifetime (the admin panel's by its own,
    /// shorter ones) and closes their sockets; devices with a socket open count as used now. Also
    /// ends devices still waiting for a link approval when their code has expired. Runs every few
    /// minutes inside `serve`; returns how many sessions ended.
    @discardableResult
    public func expireSessions() async throws -> Int {
        let now = self.now
        let connected = live.connectedDeviceIDs()
        let limits = sessionLimits
        let ended = try await run {
            try await database.write { store in
                try store.touchDevices(ids: Array(connected), now: now)
                let chat = try store.expireSessions(
                    of: .chat, idleBefore: now - limits.idleTimeout.milliseconds,
                    createdBefore: now - limits.maxAge.milliseconds, now: now)
                let panel = try store.expireSessions(
                    of: .adminPanel, idleBefore: now - limits.adminIdleTimeout.milliseconds,
                    createdBefore: now - limits.adminMaxAge.milliseconds, now: now)
                return chat + panel + (try store.expirePendingDevices(now: now))
            }
        }
        for deviceID in ended { live.sessionEnded(deviceID: deviceID) }
        if !ended.isEmpty { logger.info("sessions expired", metadata: ["count": "\(ended.count)"]) }
        return ended.count
    }

    /// Ends one device's session, as `POST /api/v1/logout` does.
    public func logout(_ session: Session) async throws {
        let now = self.now
        try await run { try await database.write { try $0.revokeDevice(id: session.device.id, now: now) } }
        live.sessionEnded(deviceID: session.device.id)
    }

    /// A user's devices, newest first, signed-out ones included.
    public func devices(of user: User) async throws -> [Device] {
        try await run { try await database.read { try $0.devices(userID: user.id) } }
    }

    /// Renames one of `user`'s devices.
    public func renameDevice(_ deviceID: Int64, of user: User, to name: String) async throws -> Device {
        let name = try rules.deviceName(name, fallback: "")
        guard !name.isEmpty else { throw ServiceError.invalidDeviceName("it must not be empty") }
        return try await run {
            try await database.write { store in
                guard let device = try store.device(id: deviceID), device.userID == user.id else {
                    throw ServiceError.notFound("Device \(deviceID)")
                }
                try store.renameDevice(id: deviceID, to: name)
                var renamed = device
                renamed.name = name
                return renamed
            }
        }
    }

    /// Signs out one of `user`'s devices (a lost phone) and closes its sockets at once.
    public func revokeDevice(_ deviceID: Int64, of user: User) async throws {
        let now = self.now
        try await run {
            try await database.write { store in
                guard try store.devices(userID: user.id).contains(where: { $0.id == deviceID }) else {
                    throw ServiceError.notFound("Device \(deviceID)")
                }
                try store.revokeDevice(id: deviceID, now: now)
            }
        }
        live.sessionEnded(deviceID: deviceID)
        logger.info("device revoked", metadata: ["device": "\(deviceID)"])
    }

    /// Signs out any user's device, as an admin does from the admin panel; written to the audit log.
    public func revokeDevice(_ deviceID: Int64, by actor: AuditActor) async throws {
        let now = self.now
        try await run {
            try await database.write { store in
                guard let device = try store.device(id: deviceID), device.revokedAt == nil,
                    let owner = try store.user(id: device.userID)
                else { throw ServiceError.notFound("Device \(deviceID)") }
                try store.revokeDevice(id: deviceID, now: now)
                try store.audit(
                    actor, "device_revoked", target: owner.username, detail: "\(device.name) (#\(deviceID))", now: now)
            }
        }
        live.sessionEnded(deviceID: deviceID)
        logger.info("device revoked", metadata: ["device": "\(deviceID)"])
    }

    // MARK: Account management (CLI and admin)

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
                let user = try Self.insertUser(
                    store, User(username: username, passwordHash: hash, role: role, createdAt: now))
                try store.audit(actor, "user_created", target: user.username, detail: "role \(role.rawValue)", now: now)
                return user
            }
        }
        logger.info("user created", metadata: ["user": "\(user.username)", "role": "\(role.rawValue)"])
        return user
    }

    /// Every account.
    public func users() async throws -> [User] {
        try await run { try await database.read { try $0.users() } }
    }

    /// One account by name; ``ServiceError/notFound(_:)`` when there is none.
    public func user(named username: String) async throws -> User {
        let user = try await run { try await database.read { try $0.user(named: username) } }
        guard let user else { throw ServiceError.notFound("User \(username)") }
        return user
    }

    /// Disables an account and ends all its sessions at once; returns how many sessions ended.
    @discardableResult
    public func disable(username: String, reason: String? = nil, by actor: AuditActor = .cli) async throws -> Int {
        let now = self.now
        let (userID, ended) = try await modify(username, by: actor, "user_disabled", detail: reason) { store, user in
            try store.setDisabled(userID: user.id, true)
            return (user.id, try store.revokeDevices(userID: user.id, now: now))
        }
        live.sessionsEnded(userID: userID)
        return ended
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

    /// Deletes an account and its devices.
    public func delete(username: String, by actor: AuditActor = .cli) async throws {
        let userID = try await modify(username, by: actor, "user_deleted") { store, user in
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

import Credentials
import Foundation
import Logging
import Storage

/// Signing in and out, the sessions behind every request, and each user's devices.
public final class Sessions: GatedService {
    /// How rarely a device's last-seen time is written, in milliseconds.
    static let touchInterval: Int64 = 60_000

    let gate: AccountGate
    let sessionLimits: HearthConfiguration.SessionLimits
    let context: ServiceContext

    init(context: ServiceContext, gate: AccountGate, sessionLimits: HearthConfiguration.SessionLimits) {
        self.context = context
        self.gate = gate
        self.sessionLimits = sessionLimits
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
            metrics.signInsThrottled.increment()
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
        } else if let user, user.bot {
            // A bot has no password: it signs in with its token only.
            try await run { try await hasher.verifyDummy(password) }
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
        guard let user, case .valid(let needsRehash) = verification else {
            metrics.signInsFailed.increment()
            throw ServiceError.invalidCredentials
        }
        throttle.reset(accountKey)
        throttle.release(addressKey, policy: addressPolicy)
        if user.disabled {
            metrics.signInsFailed.increment()
            throw ServiceError.accountDisabled
        }
        metrics.signInsOK.increment()

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
        // A bot's token works until it is replaced (`hearth bot token`) or the bot is disabled.
        if !user.bot,
            now - device.lastSeenAt > sessionLimits.idleTimeout.milliseconds
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

    /// Changes the signed-in user's own password (`PUT /api/v1/me/password`). The current
    /// password must be given, and a wrong one counts as a failed sign-in (throttled alike); the
    /// new one passes the same rules as at registration. Reset links still open end; the other
    /// devices stay signed in unless `signOutOthers`. Returns how many devices were signed out.
    public func changePassword(
        _ session: Session, current: String, new: String, signOutOthers: Bool, client: Client
    ) async throws -> Int {
        let accountKey = "login:\(session.user.username)|\(client.throttleAddress)"
        let addressKey = "login:\(client.throttleAddress)"
        if let wait = throttle.reserve([
            (accountKey, policies.loginPerAccount), (addressKey, policies.loginPerAddress),
        ]) {
            throw ServiceError.rateLimited(retryAfter: wait)
        }
        let user = try await run { try await database.read { try $0.user(id: session.user.id) } }
        guard let user, current.utf8.count <= rules.limits.passwordMaxBytes,
            case .valid = try await run({ try await hasher.verify(current, against: user.passwordHash) })
        else { throw ServiceError.wrongPassword }
        throttle.reset(accountKey)
        throttle.release(addressKey, policy: policies.loginPerAddress)
        try rules.checkNewPassword(new, username: user.username)
        let hash = try await run { try await hasher.hash(new) }
        let now = self.now
        let ended = try await run {
            try await database.write { store -> [Int64] in
                try store.setPasswordHash(userID: user.id, to: hash)
                try store.endPasswordResets(userID: user.id, now: now)
                let ended =
                    signOutOthers ? try store.revokeDevices(userID: user.id, except: session.device.id, now: now) : []
                try store.audit(
                    AuditActor(user: user, ip: client.ip), "password_changed", target: user.username,
                    detail: signOutOthers
                        ? "\(ended.count) other device\(ended.count == 1 ? "" : "s") signed out" : nil,
                    now: now)
                return ended
            }
        }
        for deviceID in ended { live.sessionEnded(deviceID: deviceID) }
        logger.info("password changed", metadata: ["user": "\(user.username)", "signed out": "\(ended.count)"])
        return ended.count
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

    /// Every signed-in device of every user, newest first, `limit` at a time before the id `before`.
    public func activeDevices(before: Int64?, limit: Int) async throws -> [OwnedDevice] {
        try await run { try await database.read { try $0.activeDevices(before: before, limit: limit) } }
    }

    /// A device that is still signed in; ``ServiceError/notFound(_:)`` otherwise.
    public func signedInDevice(id: Int64) async throws -> Device {
        let device = try await run { try await database.read { try $0.device(id: id) } }
        guard let device, device.revokedAt == nil else { throw ServiceError.notFound("Device") }
        return device
    }
}

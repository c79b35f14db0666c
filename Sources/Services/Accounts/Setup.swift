import Credentials
import Foundation
import Storage

extension Registration {
    /// While no admin exists, makes a new one-time setup token (replacing any earlier one) and
    /// returns it; nil once an admin exists.
    public func prepareSetup() async throws -> String? {
        let token = SecretToken.generate()
        let now = self.now
        return try await run {
            try await database.write { store in
                if try store.hasAdmin() {
                    try store.deleteSetupTokens()
                    return nil
                }
                try store.replaceSetupToken(tokenHash: SecretToken.digest(token), now: now)
                return token
            }
        }
    }

    /// Whether `token` is the current setup token and no admin exists yet.
    public func setupIsAvailable(token: String) async throws -> Bool {
        let digest = SecretToken.digest(token)
        return try await run {
            try await database.read { store in
                try !store.hasAdmin() && store.setupTokenExists(tokenHash: digest)
            }
        }
    }

    /// Creates the first admin with the setup token, signs them in, and kills the token.
    public func completeSetup(
        token: String, username rawUsername: String, password: String, deviceName: String?, client: Client
    ) async throws -> SignedIn {
        // Counted before the check of the token, in one step with the throttle's own check.
        let throttleKey = "register:\(client.throttleAddress)"
        if let wait = throttle.reserve([(throttleKey, policies.registerPerAddress)]) {
            throw ServiceError.rateLimited(retryAfter: wait)
        }
        guard try await setupIsAvailable(token: token) else { throw ServiceError.setupUnavailable }

        let username = try rules.username(rawUsername)
        try rules.checkNewPassword(password, username: username)
        let device = try rules.deviceName(
            deviceName, fallback: AccountRules.deviceName(fromUserAgent: client.userAgent))
        let hash = try await run { try await hasher.hash(password) }
        let sessionToken = SecretToken.generate()
        let digest = SecretToken.digest(token)
        let now = self.now
        let signedIn = try await run {
            try await database.write { store in
                guard try !store.hasAdmin(), try store.setupTokenExists(tokenHash: digest) else {
                    throw ServiceError.setupUnavailable
                }
                let user = try Accounts.insertUser(
                    store, User(username: username, passwordHash: hash, role: .admin, createdAt: now),
                    by: nil, ip: client.ip,
                    how: "with the setup link: the first admin of this server")
                let stored = try Sessions.insertDevice(
                    store, userID: user.id, name: device, client: client, token: sessionToken, now: now, cap: .max)
                return SignedIn(user: user, device: stored, token: sessionToken)
            }
        }
        logger.notice("first admin created", metadata: ["user": "\(signedIn.user.username)"])
        return signedIn
    }
}

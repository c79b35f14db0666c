import Credentials
import Foundation
import Logging
import Storage
import Synchronization

/// Signing in a new device by scanning a QR code shown on a signed-in one.
///
/// The signed-in device creates a code (256 random bits, stored only as its hash, valid ten
/// minutes, single use) and shows `<public-url>/link/<code>` as a QR. The new device claims it:
/// that creates a *pending* device whose token does not work yet, and burns the code. The user's
/// signed-in devices get a `link_request` event and one of them approves or denies. The waiting
/// device learns the outcome by long poll, proving it is the claimer with its pending token.
public final class Linking: ContextualService {
    /// A new link code, to show as a QR.
    public struct Code: Sendable {
        public let code: String
        public let url: String
        public let expiresAt: Int64
    }

    /// What a claim returns: the pending token, and whether it already works (recovery links).
    public struct Claim: Sendable {
        public let token: String
        public let approved: Bool
    }

    /// Where a claim stands for its waiting device.
    public enum Outcome: Sendable {
        case approved(User, Device)
        case pending
    }

    let throttle: Throttle
    let limits: HearthConfiguration.Limits
    let policies: HearthConfiguration.ThrottlePolicies
    let rules: AccountRules
    let publicURL: @Sendable () async -> String
    /// Pushes a link request to the user's devices that have no socket open.
    let planner: PushPlanner
    private let waiters = Mutex<[Data: [CheckedContinuation<Void, Never>]]>([:])

    let context: ServiceContext

    init(
        context: ServiceContext, throttle: Throttle, configuration: HearthConfiguration, planner: PushPlanner,
        publicURL: @escaping @Sendable () async -> String
    ) {
        self.context = context
        self.planner = planner
        self.throttle = throttle
        self.limits = configuration.limits
        self.policies = configuration.throttles
        self.rules = AccountRules(limits: configuration.limits)
        self.publicURL = publicURL
    }

    /// A code is 256 bits in unpadded base64url: exactly 43 characters of that alphabet.
    static func isWellFormed(_ code: String) -> Bool {
        code.utf8.count == 43
            && code.utf8.allSatisfy { byte in
                (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
                    || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
                    || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: "-")
                    || byte == UInt8(ascii: "_")
            }
    }

    /// Creates a link code for the signed-in device of `session` (`POST /api/v1/devices/link`).
    public func create(for session: Session) async throws -> Code {
        let key = "link:\(session.user.id)"
        if let wait = throttle.reserve([(key, policies.linkPerUser)]) {
            throw ServiceError.rateLimited(retryAfter: wait)
        }
        return try await makeCode(
            userID: session.user.id, kind: .link, createdBy: session.device.id, lifetime: limits.linkCodeLifetime)
    }

    /// Creates a single-use recovery sign-in link for a user who lost every device (`hearth user
    /// link`), and writes it to the audit log.
    public func createRecovery(username: String, by actor: AuditActor) async throws -> Code {
        let user = try await run { try await database.read { try $0.user(named: username) } }
        guard let user, !user.disabled else { throw ServiceError.notFound("User \(username.lowercased())") }
        let code = try await makeCode(
            userID: user.id, kind: .recovery, createdBy: nil, lifetime: limits.recoveryLinkLifetime)
        let now = now
        try await run {
            try await database.write { store in
                try store.audit(
                    actor, "recovery_link_created", target: user.username, detail: "valid until \(code.expiresAt)",
                    now: now)
            }
        }
        logger.notice("recovery link created", metadata: ["user": "\(user.username)"])
        return code
    }

    private func makeCode(
        userID: Int64, kind: LinkCode.Kind, createdBy: Int64?, lifetime: TimeInterval
    )
        async throws -> Code
    {
        let code = SecretToken.generate()
        let now = now
        let expiresAt = now + Int64(lifetime * 1000)
        try await run {
            try await database.write { store in
                try store.insertLinkCode(
                    codeHash: SecretToken.digest(code), userID: userID, kind: kind, createdBy: createdBy, now: now,
                    expiresAt: expiresAt)
            }
        }
        return Code(code: code, url: await publicURL() + "/link/" + code, expiresAt: expiresAt)
    }

    /// Checks that `code` belongs to `user` (for drawing its QR); ``ServiceError/linkInvalid`` otherwise.
    public func checkOwner(code: String, user: User) async throws {
        guard Self.isWellFormed(code) else { throw ServiceError.linkInvalid }
        let digest = SecretToken.digest(code)
        let link = try await run { try await database.read { try $0.linkCode(hash: digest) } }
        guard let link, link.userID == user.id else { throw ServiceError.linkInvalid }
    }

    /// The new device claims a code (`POST /api/v1/devices/link/{code}/claim`). Burns the code,
    /// creates the pending device, and asks the user's signed-in devices.
    public func claim(code: String, deviceName: String?, client: Client) async throws -> Claim {
        // A code of the wrong shape never reaches the database.
        guard Self.isWellFormed(code) else { throw ServiceError.linkInvalid }
        let key = "claim:\(client.throttleAddress)"
        if let wait = throttle.reserve([(key, policies.linkClaimPerAddress)]) {
            throw ServiceError.rateLimited(retryAfter: wait)
        }
        let name = try rules.deviceName(deviceName, fallback: AccountRules.deviceName(fromUserAgent: client.userAgent))
        let digest = SecretToken.digest(code)
        let token = SecretToken.generate()
        let now = now
        let cap = limits.devicesPerUser
        let planner = planner
        let (link, user, device, pushes): (LinkCode, User, Device, Int) = try await run {
            try await database.write { store in
                guard let link = try store.linkCode(hash: digest), let user = try store.user(id: link.userID),
                    !user.disabled
                else { throw ServiceError.linkInvalid }
                guard link.state == .open else { throw ServiceError.linkUsed }
                guard link.expiresAt > now else { throw ServiceError.linkExpired }
                let recovery = link.kind == .recovery
                let device = try Sessions.insertDevice(
                    store, userID: user.id, name: name, client: client, token: token, now: now, cap: cap,
                    pending: !recovery)
                try store.updateLinkCode(
                    hash: digest, state: recovery ? .approved : .claimed, deviceID: device.id, now: now)
                if recovery {
                    try store.audit(
                        actorID: user.id, actor: user.username, action: "recovery_link_used", target: name,
                        ip: client.ip, now: now)
                }
                let pushes =
                    recovery
                    ? 0 : try planner.planLinkRequest(userID: user.id, newDeviceID: device.id, store: store, now: now)
                return (link, user, device, pushes)
            }
        }
        if pushes > 0 { planner.wakeUp.signal() }
        if link.kind == .link {
            live.linkRequested(
                LinkRequest(
                    code: code, deviceName: device.name, userAgent: device.userAgent ?? "", ip: device.ip ?? ""),
                to: user.id)
        }
        logger.info("link code claimed", metadata: ["user": "\(user.username)", "device": "\(device.id)"])
        return Claim(token: token, approved: link.kind == .recovery)
    }

    /// A signed-in device of the same user approves (`true`) or denies a claim.
    public func decide(code: String, approve: Bool, by session: Session) async throws {
        guard Self.isWellFormed(code) else { throw ServiceError.linkInvalid }
        let digest = SecretToken.digest(code)
        let now = now
        let cap = limits.devicesPerUser
        let deviceName: String = try await run {
            try await database.write { store in
                // Someone else's code looks exactly like an unknown one.
                guard let link = try store.linkCode(hash: digest), link.userID == session.user.id, link.kind == .link
                else { throw ServiceError.linkInvalid }
                switch link.state {
                case .open: throw ServiceError.linkInvalid
                case .approved, .denied: throw ServiceError.linkUsed
                case .claimed: break
                }
                guard link.expiresAt > now else { throw ServiceError.linkExpired }
                guard let deviceID = link.deviceID, let device = try store.device(id: deviceID) else {
                    throw ServiceError.linkInvalid
                }
                if approve {
                    // The waiting device did not count toward the cap; it does from now on.
                    guard try store.activeDeviceCount(userID: session.user.id) < cap else {
                        throw ServiceError.tooManyDevices(limit: cap)
                    }
                    try store.approveDevice(id: deviceID)
                } else {
                    try store.revokeDevice(id: deviceID, now: now)
                }
                try store.updateLinkCode(hash: digest, state: approve ? .approved : .denied, deviceID: nil, now: now)
                try store.audit(
                    actorID: session.user.id, actor: session.user.username,
                    action: approve ? "device_link_approved" : "device_link_denied", target: device.name,
                    detail: "from device \(session.device.id)", now: now)
                return device.name
            }
        }
        wake(digest)
        logger.info(approve ? "device link approved" : "device link denied", metadata: ["device": "\(deviceName)"])
    }

    /// The claiming device waits for the decision (`GET …/wait`), at most `timeout`: approved
    /// (its token works now), still pending, or an error for denied and expired claims.
    public func wait(code: String, token: String, timeout: Duration) async throws -> Outcome {
        guard Self.isWellFormed(code) else { throw ServiceError.linkInvalid }
        let digest = SecretToken.digest(code)
        let tokenHash = SecretToken.digest(token)
        let deadline = ContinuousClock.now + timeout
        while true {
            let outcome = try await check(digest, tokenHash: tokenHash)
            guard case .pending = outcome, ContinuousClock.now < deadline else { return outcome }
            await sleepUntilWoken(digest, deadline: deadline)
        }
    }

    private func check(_ digest: Data, tokenHash: Data) async throws -> Outcome {
        let now = now
        return try await run {
            try await database.read { store in
                guard let link = try store.linkCode(hash: digest) else { throw ServiceError.linkInvalid }
                // A refusal or an expiry tells nothing secret; only the claimer, holding the
                // pending token, learns of an approval.
                if link.state == .denied { throw ServiceError.linkDenied }
                if link.state != .approved, link.expiresAt <= now { throw ServiceError.linkExpired }
                guard let deviceID = link.deviceID, let device = try store.device(tokenHash: tokenHash),
                    device.id == deviceID
                else { throw ServiceError.linkInvalid }
                guard link.state == .approved else { return .pending }
                guard device.isActive, let user = try store.user(id: link.userID), !user.disabled else {
                    throw ServiceError.linkDenied
                }
                return .approved(user, device)
            }
        }
    }

    private func sleepUntilWoken(_ digest: Data, deadline: ContinuousClock.Instant) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                await withCheckedContinuation { continuation in
                    self.waiters.withLock { $0[digest, default: []].append(continuation) }
                }
            }
            group.addTask {
                // Wake at the deadline, and every few seconds to notice an expiry.
                try? await Task.sleep(until: min(deadline, .now + .seconds(5)))
                self.wake(digest)
            }
            await group.next()
            group.cancelAll()
            self.wake(digest)
            await group.waitForAll()
        }
    }

    private func wake(_ digest: Data) {
        let continuations = waiters.withLock { $0.removeValue(forKey: digest) ?? [] }
        for continuation in continuations { continuation.resume() }
    }
}

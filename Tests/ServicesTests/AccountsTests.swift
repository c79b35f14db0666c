import Foundation
import HearthTestSupport
import Services
import Storage
import Testing

@Suite struct AccountsTests {
    let env: TestServices
    init() throws { env = try TestServices() }

    func inviteCode(uses: Int = 1, admin: Bool = false) async throws -> String {
        try await env.invites.create(uses: uses, admin: admin).code
    }

    @Test func registersWithAnInviteAndSignsIn() async throws {
        defer { env.remove() }
        let code = try await inviteCode()
        let registered = try await env.registration.register(
            username: "Kid", password: TestServices.password, invite: code, deviceName: "Kid's laptop",
            client: TestServices.home)
        #expect(registered.user.username == "kid")
        #expect(registered.user.role == .member)
        #expect(registered.device.name == "Kid's laptop")
        let session = try await env.sessions.authenticate(token: registered.token, client: TestServices.home)
        #expect(session.user.id == registered.user.id)

        let signedIn = try await env.sessions.login(
            username: "KID", password: TestServices.password, deviceName: nil, client: TestServices.home)
        #expect(signedIn.device.id != registered.device.id)
        #expect(signedIn.device.name == "Test/1.0")
        #expect(signedIn.token != registered.token)
    }

    @Test func inviteModeIsTheDefaultAndNeedsAnInvite() async throws {
        defer { env.remove() }
        #expect(try await env.registration.mode() == .invite)
        await #expect(throws: ServiceError.inviteRequired) {
            try await env.registration.register(
                username: "kid", password: TestServices.password, invite: nil, deviceName: nil,
                client: TestServices.home)
        }
        await #expect(throws: ServiceError.inviteInvalid) {
            try await env.registration.register(
                username: "kid", password: TestServices.password, invite: "nosuchcode", deviceName: nil,
                client: TestServices.home)
        }
        #expect(try await env.accounts.users().isEmpty)
    }

    @Test func openModeTakesAnyoneAndClosedModeNobody() async throws {
        defer { env.remove() }
        try await env.registration.setMode(.open)
        _ = try await env.registration.register(
            username: "neighbour", password: TestServices.password, invite: nil, deviceName: nil,
            client: TestServices.home)
        try await env.registration.setMode(.closed)
        let code = try await inviteCode()
        await #expect(throws: ServiceError.registrationClosed) {
            try await env.registration.register(
                username: "stranger", password: TestServices.password, invite: code, deviceName: nil,
                client: TestServices.home)
        }
        // The CLI still creates accounts when closed.
        _ = try await env.accounts.createUser(username: "grandpa", password: TestServices.password, role: .member)
        #expect(try await env.accounts.users().map(\.username) == ["grandpa", "neighbour"])
    }

    @Test func theInviteLifecycle() async throws {
        defer { env.remove() }
        let invite = try await env.invites.create(uses: 2, lifetime: 3_600)
        #expect(env.invites.status(of: invite.invite) == .active)
        for name in ["kid1", "kid2"] {
            _ = try await env.registration.register(
                username: name, password: TestServices.password, invite: invite.code, deviceName: nil,
                client: TestServices.home)
        }
        await #expect(throws: ServiceError.inviteUsedUp) {
            try await env.registration.register(
                username: "kid3", password: TestServices.password, invite: invite.code, deviceName: nil,
                client: TestServices.home)
        }
        #expect(try await env.invites.list().first.map(env.invites.status(of:)) == .usedUp)

        let expiring = try await env.invites.create(uses: 1, lifetime: 60)
        env.clock.advance(61)
        await #expect(throws: ServiceError.inviteExpired) {
            try await env.registration.register(
                username: "late", password: TestServices.password, invite: expiring.code, deviceName: nil,
                client: Client(ip: "10.0.0.9", userAgent: nil))
        }

        let revoked = try await env.invites.create()
        try await env.invites.revoke(code: revoked.code.uppercased())
        await #expect(throws: ServiceError.inviteRevoked) {
            try await env.registration.register(
                username: "revoked", password: TestServices.password, invite: revoked.code, deviceName: nil,
                client: Client(ip: "10.0.0.10", userAgent: nil))
        }
        await #expect(throws: ServiceError.notFound("That invite")) { try await env.invites.revoke(code: "nosuch") }
        #expect(try await env.accounts.users().count == 2)
    }

    @Test func anAdminInviteMakesAnAdmin() async throws {
        defer { env.remove() }
        let code = try await inviteCode(admin: true)
        let signedIn = try await env.registration.register(
            username: "dad", password: TestServices.password, invite: code, deviceName: nil, client: TestServices.home)
        #expect(signedIn.user.role == .admin)
    }

    @Test func inviteOptionsAreBounded() async throws {
        defer { env.remove() }
        await #expect(throws: ServiceError.self) { try await env.invites.create(uses: 0) }
        await #expect(throws: ServiceError.self) { try await env.invites.create(uses: 1001) }
        await #expect(throws: ServiceError.self) { try await env.invites.create(lifetime: 10) }
        await #expect(throws: ServiceError.self) { try await env.invites.create(lifetime: 400 * 86_400) }
        #expect(Invites.parseLifetime("7d") == TimeInterval(604_800))
        #expect(Invites.parseLifetime("30m") == TimeInterval(1_800))
        #expect(Invites.parseLifetime("2w") == TimeInterval(1_209_600))
        #expect(Invites.parseLifetime("7") == nil)
        #expect(Invites.parseLifetime("-1d") == nil)
        #expect(try await env.invites.list().isEmpty)
    }

    @Test(arguments: [
        ("ab", "invalid_username"), (String(repeating: "a", count: 33), "invalid_username"),
        ("mum dad", "invalid_username"), ("mü", "invalid_username"), (".hidden", "invalid_username"),
        ("admin", "username_reserved"), ("Root", "username_reserved"), ("system", "username_reserved"),
    ])
    func badUsernamesAreRefused(username: String, code: String) async throws {
        defer { env.remove() }
        try await env.registration.setMode(.open)
        await #expect {
            try await env.registration.register(
                username: username, password: TestServices.password, invite: nil, deviceName: nil,
                client: TestServices.home)
        } throws: { ($0 as? ServiceError)?.code == code }
        #expect(try await env.accounts.users().isEmpty)
    }

    @Test(arguments: [
        ("short", "password_too_short"), (String(repeating: "x", count: 1025), "password_too_long"),
        ("password123", "password_too_common"), ("QWERTYUIOP", "password_too_common"),
        ("aaaaaaaaaaaa", "password_too_common"), ("grandma1234", "password_too_common"),
    ])
    func weakPasswordsAreRefused(password: String, code: String) async throws {
        defer { env.remove() }
        try await env.registration.setMode(.open)
        await #expect {
            try await env.registration.register(
                username: "grandma", password: password, invite: nil, deviceName: nil, client: TestServices.home)
        } throws: { ($0 as? ServiceError)?.code == code }
        #expect(try await env.accounts.users().isEmpty)
    }

    @Test func usernamesAreUniqueWhateverTheCase() async throws {
        defer { env.remove() }
        try await env.registration.setMode(.open)
        _ = try await env.accounts.createUser(username: "mum", password: TestServices.password, role: .admin)
        await #expect(throws: ServiceError.usernameTaken) {
            try await env.registration.register(
                username: "MUM", password: TestServices.password, invite: nil, deviceName: nil,
                client: TestServices.home)
        }
    }

    @Test func wrongPasswordAndUnknownUserGiveTheSameError() async throws {
        defer { env.remove() }
        _ = try await env.accounts.createUser(username: "mum", password: TestServices.password, role: .admin)
        await #expect(throws: ServiceError.invalidCredentials) {
            try await env.sessions.login(
                username: "mum", password: "not the password", deviceName: nil, client: TestServices.home)
        }
        await #expect(throws: ServiceError.invalidCredentials) {
            try await env.sessions.login(
                username: "nobody", password: "not the password", deviceName: nil, client: TestServices.home)
        }
        await #expect(throws: ServiceError.invalidCredentials) {
            try await env.sessions.login(
                username: "mum", password: String(repeating: "x", count: 5000), deviceName: nil,
                client: TestServices.home)
        }
    }

    @Test func failedSignInsAreThrottledThenReset() async throws {
        defer { env.remove() }
        _ = try await env.accounts.createUser(username: "mum", password: TestServices.password, role: .admin)
        for _ in 0..<5 {
            await #expect(throws: ServiceError.invalidCredentials) {
                try await env.sessions.login(
                    username: "mum", password: "wrong password", deviceName: nil, client: TestServices.home)
            }
        }
        // The burst is spent: even the right password waits, without any hashing.
        await #expect(throws: ServiceError.rateLimited(retryAfter: 1)) {
            try await env.sessions.login(
                username: "mum", password: TestServices.password, deviceName: nil, client: TestServices.home)
        }
        // Someone else in the same household is not locked out.
        _ = try await env.accounts.createUser(username: "dad", password: TestServices.password, role: .member)
        _ = try await env.sessions.login(
            username: "dad", password: TestServices.password, deviceName: nil, client: TestServices.home)

        env.clock.advance(1)
        _ = try await env.sessions.login(
            username: "mum", password: TestServices.password, deviceName: nil, client: TestServices.home)
        // Success reset the account's count: a typo now is a plain wrong password again.
        await #expect(throws: ServiceError.invalidCredentials) {
            try await env.sessions.login(
                username: "mum", password: "wrong password", deviceName: nil, client: TestServices.home)
        }
    }

    @Test func theBackoffDoubles() async throws {
        defer { env.remove() }
        for attempt in 0..<7 {
            if attempt > 5 { env.clock.advance(2) } else if attempt == 5 { env.clock.advance(1) }
            await #expect(throws: ServiceError.invalidCredentials) {
                try await env.sessions.login(
                    username: "ghost", password: "wrong password", deviceName: nil, client: TestServices.home)
            }
        }
        // Seven failures: the wait is now 2^(7-5) = 4 seconds.
        await #expect(throws: ServiceError.rateLimited(retryAfter: 4)) {
            try await env.sessions.login(
                username: "ghost", password: "wrong password", deviceName: nil, client: TestServices.home)
        }
    }

    @Test func registrationsPerAddressAreThrottled() async throws {
        defer { env.remove() }
        try await env.registration.setMode(.open)
        for index in 0..<5 {
            _ = try await env.registration.register(
                username: "member\(index)", password: TestServices.password, invite: nil, deviceName: nil,
                client: TestServices.home)
        }
        await #expect(throws: ServiceError.rateLimited(retryAfter: 1)) {
            try await env.registration.register(
                username: "member5", password: TestServices.password, invite: nil, deviceName: nil,
                client: TestServices.home)
        }
        env.clock.advance(1)
        _ = try await env.registration.register(
            username: "member5", password: TestServices.password, invite: nil, deviceName: nil,
            client: TestServices.home)
    }

    @Test func aDisabledAccountLosesEverySessionAtOnce() async throws {
        defer { env.remove() }
        _ = try await env.accounts.createUser(username: "teen", password: TestServices.password, role: .member)
        let phone = try await env.sessions.login(
            username: "teen", password: TestServices.password, deviceName: "phone", client: TestServices.home)
        let laptop = try await env.sessions.login(
            username: "teen", password: TestServices.password, deviceName: "laptop", client: TestServices.home)
        #expect(try await env.accounts.disable(username: "teen") == 2)
        for token in [phone.token, laptop.token] {
            await #expect(throws: ServiceError.unauthorized) {
                try await env.sessions.authenticate(token: token, client: TestServices.home)
            }
        }
        await #expect(throws: ServiceError.accountDisabled) {
            try await env.sessions.login(
                username: "teen", password: TestServices.password, deviceName: nil, client: TestServices.home)
        }
        try await env.accounts.enable(username: "teen")
        _ = try await env.sessions.login(
            username: "teen", password: TestServices.password, deviceName: nil, client: TestServices.home)
    }

    @Test func resettingAPasswordEndsEverySession() async throws {
        defer { env.remove() }
        _ = try await env.accounts.createUser(username: "grandma", password: TestServices.password, role: .member)
        let old = try await env.sessions.login(
            username: "grandma", password: TestServices.password, deviceName: nil, client: TestServices.home)
        try await env.accounts.resetPassword(username: "grandma", password: "a brand new passphrase")
        await #expect(throws: ServiceError.unauthorized) {
            try await env.sessions.authenticate(token: old.token, client: TestServices.home)
        }
        await #expect(throws: ServiceError.invalidCredentials) {
            try await env.sessions.login(
                username: "grandma", password: TestServices.password, deviceName: nil, client: TestServices.home)
        }
        _ = try await env.sessions.login(
            username: "grandma", password: "a brand new passphrase", deviceName: nil, client: TestServices.home)
    }

    @Test func logoutEndsOnlyThatDevice() async throws {
        defer { env.remove() }
        _ = try await env.accounts.createUser(username: "mum", password: TestServices.password, role: .admin)
        let one = try await env.sessions.login(
            username: "mum", password: TestServices.password, deviceName: "one", client: TestServices.home)
        let two = try await env.sessions.login(
            username: "mum", password: TestServices.password, deviceName: "two", client: TestServices.home)
        try await env.sessions.logout(try await env.sessions.authenticate(token: one.token, client: TestServices.home))
        await #expect(throws: ServiceError.unauthorized) {
            try await env.sessions.authenticate(token: one.token, client: TestServices.home)
        }
        _ = try await env.sessions.authenticate(token: two.token, client: TestServices.home)
    }

    @Test func deletingAUserRemovesTheirSessions() async throws {
        defer { env.remove() }
        _ = try await env.accounts.createUser(username: "visitor", password: TestServices.password, role: .member)
        let session = try await env.sessions.login(
            username: "visitor", password: TestServices.password, deviceName: nil, client: TestServices.home)
        try await env.accounts.delete(username: "visitor")
        await #expect(throws: ServiceError.unauthorized) {
            try await env.sessions.authenticate(token: session.token, client: TestServices.home)
        }
        await #expect(throws: ServiceError.notFound("User visitor")) {
            try await env.accounts.delete(username: "visitor")
        }
    }

    @Test func badDeviceNamesAreRefused() async throws {
        defer { env.remove() }
        _ = try await env.accounts.createUser(username: "mum", password: TestServices.password, role: .admin)
        await #expect(throws: ServiceError.self) {
            try await env.sessions.login(
                username: "mum", password: TestServices.password, deviceName: String(repeating: "p", count: 65),
                client: TestServices.home)
        }
        await #expect(throws: ServiceError.self) {
            try await env.sessions.login(
                username: "mum", password: TestServices.password, deviceName: "bad\u{0}name", client: TestServices.home)
        }
    }
}

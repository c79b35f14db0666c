import Foundation
import HearthTestSupport
import Services
import Storage
import Testing

@Suite struct SetupTests {
    @Test func theSetupTokenCreatesTheFirstAdminOnce() async throws {
        let env = try TestServices()
        defer { env.remove() }
        let token = try #require(try await env.registration.prepareSetup())
        #expect(try await env.registration.setupIsAvailable(token: token))
        #expect(try await !env.registration.setupIsAvailable(token: "guess"))

        let admin = try await env.registration.completeSetup(
            token: token, username: "mum", password: TestServices.password, deviceName: nil, client: TestServices.home)
        #expect(admin.user.role == .admin)
        #expect(try await !env.registration.setupIsAvailable(token: token))
        await #expect(throws: ServiceError.setupUnavailable) {
            try await env.registration.completeSetup(
                token: token, username: "intruder", password: TestServices.password, deviceName: nil,
                client: TestServices.home)
        }
        // Once an admin exists, serve prints no setup link.
        #expect(try await env.registration.prepareSetup() == nil)
    }

    /// Every account creation is in the audit log, with how it came about: the setup link, an
    /// invite (and whose), the command line.
    @Test func everyAccountCreationIsAudited() async throws {
        let env = try TestServices()
        defer { env.remove() }
        let token = try #require(try await env.registration.prepareSetup())
        let mum = try await env.registration.completeSetup(
            token: token, username: "mum", password: TestServices.password, deviceName: nil, client: TestServices.home)
        let invite = try await env.invites.create(uses: 2, by: AuditActor(user: mum.user, ip: nil))
        _ = try await env.registration.register(
            username: "kid", password: TestServices.password, invite: invite.code, deviceName: nil,
            client: TestServices.home)
        _ = try await env.accounts.createUser(username: "gran", password: TestServices.password, role: .member)
        let created = try await env.services.moderation.auditLog(AuditFilter(action: "user_created"))
            .map { "\($0.actor): \($0.target ?? "") \($0.detail ?? "")" }
        #expect(
            created == [
                "cli: gran as a member, from the command line",
                "kid: kid as a member, with an invite from mum",
                "mum: mum as an admin, with the setup link: the first admin of this server",
            ])
    }

    @Test func anAdminFromTheCommandLineKillsTheToken() async throws {
        let env = try TestServices()
        defer { env.remove() }
        let token = try #require(try await env.registration.prepareSetup())
        _ = try await env.accounts.createUser(username: "mum", password: TestServices.password, role: .admin)
        #expect(try await !env.registration.setupIsAvailable(token: token))
    }

    @Test func aRestartReplacesTheToken() async throws {
        let env = try TestServices()
        defer { env.remove() }
        let first = try #require(try await env.registration.prepareSetup())
        let second = try #require(try await env.registration.prepareSetup())
        #expect(try await !env.registration.setupIsAvailable(token: first))
        #expect(try await env.registration.setupIsAvailable(token: second))
    }
}

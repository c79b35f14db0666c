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

import Foundation
import HearthTestSupport
import Services
import Storage
import Testing

/// Idle and absolute session lifetimes (OWASP ASVS 5.0 §7.3), on the test clock.
@Suite struct SessionLifetimeTests {
    let env: TestServices
    init() throws {
        env = try TestServices { configuration in
            configuration.sessions.idleTimeout = 30 * 86_400
            configuration.sessions.maxAge = 90 * 86_400
        }
    }

    func register(_ name: String) async throws -> SignedIn {
        try await env.registration.setMode(.open)
        return try await env.registration.register(
            username: name, password: TestServices.password, invite: nil, deviceName: nil, client: TestServices.home)
    }

    @Test func anUnusedSessionEndsAfterTheIdleTimeout() async throws {
        defer { env.remove() }
        let signedIn = try await register("kid")
        env.clock.advance(29 * 86_400)
        _ = try await env.sessions.authenticate(token: signedIn.token, client: TestServices.home)
        env.clock.advance(29 * 86_400)
        _ = try await env.sessions.authenticate(token: signedIn.token, client: TestServices.home)
        env.clock.advance(30 * 86_400 + 1)
        await #expect(throws: ServiceError.unauthorized) {
            try await env.sessions.authenticate(token: signedIn.token, client: TestServices.home)
        }
        let device = try #require(try await env.sessions.devices(of: signedIn.user).first)
        #expect(device.revokedAt != nil)
    }

    @Test func aSessionInUseStillEndsAtItsAbsoluteLifetime() async throws {
        defer { env.remove() }
        let signedIn = try await register("kid")
        for _ in 0..<4 {
            env.clock.advance(22 * 86_400)
            _ = try await env.sessions.authenticate(token: signedIn.token, client: TestServices.home)
        }
        env.clock.advance(3 * 86_400)  // 91 days after sign-in, used three days ago
        await #expect(throws: ServiceError.unauthorized) {
            try await env.sessions.authenticate(token: signedIn.token, client: TestServices.home)
        }
        // Signing in again starts a new session with a new token.
        let again = try await env.sessions.login(
            username: "kid", password: TestServices.password, deviceName: nil, client: TestServices.home)
        #expect(again.token != signedIn.token)
        _ = try await env.sessions.authenticate(token: again.token, client: TestServices.home)
    }

    /// A device waiting for a link approval does not count toward the cap, ends with its code, and
    /// is counted once approved.
    @Test func aPendingDeviceEndsWithItsCodeAndCountsOnlyOnceApproved() async throws {
        let env = try TestServices { $0.limits.devicesPerUser = 2 }
        defer { env.remove() }
        try await env.registration.setMode(.open)
        let first = try await env.registration.register(
            username: "kid", password: TestServices.password, invite: nil, deviceName: nil, client: TestServices.home)
        let session = try await env.sessions.authenticate(token: first.token, client: TestServices.home)
        // Two claims wait; a second sign-in still fits the cap of two.
        let stale = try await env.services.linking.create(for: session)
        _ = try await env.services.linking.claim(code: stale.code, deviceName: "tablet", client: TestServices.home)
        let waiting = try await env.services.linking.create(for: session)
        _ = try await env.services.linking.claim(code: waiting.code, deviceName: "phone", client: TestServices.home)
        _ = try await env.sessions.login(
            username: "kid", password: TestServices.password, deviceName: nil, client: TestServices.home)
        // At the cap, an approval is refused like a sign-in would be.
        await #expect(throws: ServiceError.tooManyDevices(limit: 2)) {
            try await env.services.linking.decide(code: waiting.code, approve: true, by: session)
        }
        // Once their codes expire, the waiting devices are signed out by the sweep.
        env.clock.advance(601)
        try await env.sessions.expireSessions()
        let devices = try await env.sessions.devices(of: first.user)
        #expect(devices.filter { $0.pending && $0.revokedAt == nil }.isEmpty)
        #expect(devices.filter { $0.revokedAt == nil }.count == 2)
    }

    @Test func theSweepEndsAdminPanelSessionsByTheirOwnLifetimes() async throws {
        defer { env.remove() }
        let chat = try await register("parent")
        let panel = try await env.sessions.login(
            username: "parent", password: TestServices.password, deviceName: "Admin panel", client: TestServices.home,
            kind: .adminPanel)
        #expect(panel.device.kind == .adminPanel && chat.device.kind == .chat)
        env.clock.advance(31 * 60)  // an admin who closed the tab without signing out
        #expect(try await env.sessions.expireSessions() == 1)
        await #expect(throws: ServiceError.unauthorized) {
            try await env.sessions.authenticate(token: panel.token, client: TestServices.home)
        }
        _ = try await env.sessions.authenticate(token: chat.token, client: TestServices.home)

        // A panel session in constant use still ends 12 hours after sign-in.
        let busy = try await env.sessions.login(
            username: "parent", password: TestServices.password, deviceName: "Admin panel", client: TestServices.home,
            kind: .adminPanel)
        for _ in 0..<36 {
            env.clock.advance(20 * 60)
            _ = try await env.sessions.authenticate(token: busy.token, client: TestServices.home)
            _ = try await env.sessions.authenticate(token: chat.token, client: TestServices.home)
        }
        env.clock.advance(20 * 60)
        #expect(try await env.sessions.expireSessions() == 1)
        await #expect(throws: ServiceError.unauthorized) {
            try await env.sessions.authenticate(token: busy.token, client: TestServices.home)
        }
    }
}

import Foundation
import HearthTestSupport
import Services
import Storage
import Testing

@testable import Web

/// The session sweep against the relay hub: a device with a socket open counts as used.
@Suite struct SessionSweepTests {
    @Test func theSweepEndsIdleSessionsButNotConnectedOnes() async throws {
        let (env, hub) = try servicesWithHub { configuration in
            configuration.sessions.idleTimeout = 30 * 86_400
            configuration.sessions.maxAge = 90 * 86_400
        }
        defer { env.remove() }
        try await env.registration.setMode(.open)
        func register(_ name: String) async throws -> SignedIn {
            try await env.registration.register(
                username: name, password: TestServices.password, invite: nil, deviceName: nil,
                client: TestServices.home)
        }
        let idle = try await register("kid")
        let connected = try await register("parent")
        let session = try await env.sessions.authenticate(token: connected.token, client: TestServices.home)
        let connection = try await hub.connect(session, contacts: { _ in [] }).get()
        env.clock.advance(20 * 86_400)
        #expect(try await env.sessions.expireSessions() == 0)
        env.clock.advance(11 * 86_400)
        #expect(try await env.sessions.expireSessions() == 1)
        await #expect(throws: ServiceError.unauthorized) {
            try await env.sessions.authenticate(token: idle.token, client: TestServices.home)
        }
        // The connected device was seen by the sweep 11 days ago, so it is not idle.
        _ = try await env.sessions.authenticate(token: connected.token, client: TestServices.home)
        await hub.disconnected(connection, contacts: { _ in [] })
    }
}

import Credentials
import Foundation
import HearthTestSupport
import Services
import Storage
import Testing

@Suite struct RehashTests {
    @Test func signInRehashesWhenTheParametersChanged() async throws {
        let old = try TestServices()
        defer { old.remove() }
        let user = try await old.accounts.createUser(username: "mum", password: TestServices.password, role: .admin)
        #expect(Argon2Parameters(phc: user.passwordHash)?.memoryKiB == 1024)

        // The same data dir, opened with stronger parameters.
        var configuration = HearthConfiguration(dataDirectory: old.directory)
        configuration.hashing.parameters = Argon2Parameters(memoryKiB: 2048, iterations: 1, parallelism: 1)
        let services = try AppServices(configuration: configuration)
        _ = try await services.sessions.login(
            username: "mum", password: TestServices.password, deviceName: nil, client: TestServices.home)
        let rehashed = try await services.accounts.user(named: "mum")
        #expect(Argon2Parameters(phc: rehashed.passwordHash)?.memoryKiB == 2048)
        _ = try await services.sessions.login(
            username: "mum", password: TestServices.password, deviceName: nil, client: TestServices.home)
    }
}

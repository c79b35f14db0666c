import Credentials
import Foundation
import Services
import Synchronization

/// A clock tests move by hand.
public final class TestClock: Sendable {
    private let current = Mutex(Date(timeIntervalSince1970: 1_800_000_000))

    public init() {}

    public var now: Date { current.withLock { $0 } }

    public func advance(_ seconds: TimeInterval) {
        current.withLock { $0 = $0.addingTimeInterval(seconds) }
    }
}

/// Services over a fresh database in a temp dir, with cheap Argon2 parameters and a test clock.
public struct TestServices: Sendable {
    public let directory: URL
    public let clock = TestClock()
    public let services: AppServices

    /// `live` makes the socket side the services announce to, from the final configuration and
    /// the test clock; none by default.
    public init(
        directory: URL? = nil, _ configure: (inout HearthConfiguration) -> Void = { _ in },
        live: (HearthConfiguration, @escaping @Sendable () -> Date) -> any LiveEvents = { _, _ in .none }
    ) throws {
        self.directory =
            directory ?? FileManager.default.temporaryDirectory.appending(path: "hearth-services-\(UUID().uuidString)")
        var configuration = HearthConfiguration(dataDirectory: self.directory)
        configuration.hashing.parameters = Argon2Parameters(memoryKiB: 1024, iterations: 1, parallelism: 1)
        configure(&configuration)
        let clock = clock
        let now: @Sendable () -> Date = { clock.now }
        services = try AppServices(configuration: configuration, live: live(configuration, now), clock: now)
    }

    public var accounts: Accounts { services.accounts }
    public var sessions: Sessions { services.sessions }
    public var registration: Registration { services.registration }
    public var invites: Invites { services.invites }

    public func remove() {
        try? FileManager.default.removeItem(at: directory)
    }

    public static let home = Client(ip: "192.168.1.20", userAgent: "Test/1.0")
    public static let password = "a long family password"
}

import Foundation
import HearthTestSupport
import Hummingbird
import HummingbirdTesting
import Logging
import Services
import Storage
import Synchronization
import Testing
import Web

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A family on a live server: accounts, sessions and HTTP helpers for relay tests.
struct Family: Sendable {
    let env: TestServices
    let hub: RelayHub
    let port: Int

    /// Creates an account and returns a session token for a new device of it.
    func signIn(_ username: String, device: String = "device", role: User.Role = .member) async throws -> String {
        if (try? await env.accounts.user(named: username)) == nil {
            _ = try await env.accounts.createUser(username: username, password: TestServices.password, role: role)
        }
        return try await env.sessions.login(
            username: username, password: TestServices.password, deviceName: device,
            client: Client(ip: "127.0.0.\(Int.random(in: 2...250))", userAgent: nil)
        ).token
    }

    /// The id of the direct room between two users (created on first use).
    func directRoom(_ first: String, _ second: String) async throws -> Int64 {
        try await env.services.rooms.create(
            by: env.accounts.user(named: first), name: nil, usernames: [second], direct: true
        ).0.room.id
    }

    /// A group owned by `owner` with `members`.
    func group(_ name: String, owner: String, members: [String]) async throws -> Int64 {
        try await env.services.rooms.create(
            by: env.accounts.user(named: owner), name: name, usernames: members, direct: false
        ).0.room.id
    }

    func socket(_ token: String, paused: Bool = false, query: String = "") async throws -> TestSocket {
        try await TestSocket(port: port, token: token, query: query, paused: paused)
    }

    /// Sends JSON over HTTP and returns the status and the decoded object.
    func call(
        _ method: String, _ path: String, json: [String: Any]? = nil, token: String? = nil, userAgent: String? = nil
    ) async throws -> (status: Int, json: [String: Any], data: Data) {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
        request.httpMethod = method
        if let json, method != "GET" {
            request.httpBody = try JSONSerialization.data(withJSONObject: json)
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        if let userAgent { request.setValue(userAgent, forHTTPHeaderField: "User-Agent") }
        let (data, response) = try await URLSession.shared.data(for: request)
        let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:]
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, object, data)
    }

    /// Uploads `data` as `type` (`POST /api/v1/attachments?name=NAME`): the status and the decoded object.
    func upload(
        _ data: Data, type: String, token: String, name: String = "photo.png"
    ) async throws -> (status: Int, json: [String: Any]) {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)/api/v1/attachments?name=\(name)")!)
        request.httpMethod = "POST"
        request.setValue(type, forHTTPHeaderField: "Content-Type")
        request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        let (body, response) = try await URLSession.shared.upload(for: request, from: data)
        return (
            (response as? HTTPURLResponse)?.statusCode ?? 0,
            (try? JSONSerialization.jsonObject(with: body) as? [String: Any]) ?? [:]
        )
    }

    /// `error.code` of an error body.
    static func errorCode(_ json: [String: Any]) -> String? {
        (json["error"] as? [String: Any])?["code"] as? String
    }

    /// A plain HTTP request to the live server.
    func http(
        _ method: String, _ path: String, headers: [String: String] = [:]
    ) async throws -> (status: Int, body: String) {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
        request.httpMethod = method
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        let (data, response) = try await URLSession.shared.data(for: request)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data, as: UTF8.self))
    }
}

/// Runs `body` against a live server on 127.0.0.1 over a fresh data dir (or `directory`).
func withLiveApp(
    directory: URL? = nil, server configureServer: (inout ServerConfiguration) -> Void = { _ in },
    _ configure: @escaping (inout HearthConfiguration) -> Void = { _ in },
    _ body: @escaping @Sendable (Family) async throws -> Void
) async throws {
    let (env, hub) = try servicesWithHub(directory: directory) { configuration in
        configuration.throttles.registerPerAddress.burst = 1_000
        configuration.relay.messagesPerMinute = 100_000
        configuration.relay.framesPerSecond = 100_000
        configure(&configuration)
    }
    defer { if directory == nil { env.remove() } }
    var server = ServerConfiguration()
    server.host = "127.0.0.1"
    server.port = 0
    configureServer(&server)
    let app = HearthApp(services: env.services, hub: hub, server: server).application(logger: .init(label: "test"))
    try await app.test(.live) { client in
        guard let port = client.port else { throw SocketError("no port") }
        try await body(Family(env: env, hub: hub, port: port))
    }
}

/// Runs `body` against the whole server as `hearth serve` runs it (the service group: HTTP, the
/// relay's own service, housekeeping), on 127.0.0.1 over a fresh data dir; stops it after.
func withServedApp(_ body: @escaping @Sendable (Family) async throws -> Void) async throws {
    let (env, hub) = try servicesWithHub { configuration in
        configuration.throttles.registerPerAddress.burst = 1_000
    }
    defer { env.remove() }
    var server = ServerConfiguration()
    server.host = "127.0.0.1"
    server.port = 0
    let portBox = Mutex<Int?>(nil)
    let group = try HearthApp(services: env.services, hub: hub, server: server).serviceGroup(
        logger: Logger(label: "test"), signals: []
    ) { channel in portBox.withLock { $0 = channel.localAddress?.port } }
    let running = Task { try await group.run() }
    var port: Int?
    for _ in 0..<3000 where port == nil {
        try await Task.sleep(for: .milliseconds(10))
        port = portBox.withLock { $0 }
    }
    do {
        try await body(Family(env: env, hub: hub, port: try #require(port)))
    } catch {
        await group.triggerGracefulShutdown()
        throw error
    }
    await group.triggerGracefulShutdown()
    try await running.value
}

/// Services over a fresh data dir (or `directory`), announcing to a relay hub as `hearth serve`'s do.
func servicesWithHub(
    directory: URL? = nil, _ configure: (inout HearthConfiguration) -> Void = { _ in }
) throws -> (TestServices, RelayHub) {
    var made: RelayHub?
    let env = try TestServices(directory: directory, configure) { configuration, clock in
        let hub = RelayHub(limits: configuration.relay, clock: clock, logger: Logger(label: "test"))
        made = hub
        return hub
    }
    guard let made else { throw SocketError("no hub") }
    return (env, made)
}

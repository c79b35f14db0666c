import Foundation
import HearthTestSupport
import Services
import Testing

@testable import Web

/// Slow clients and connection floods, over raw sockets: a head that trickles in, a body that
/// stalls, an idle keep-alive connection, too many connections from one address. Timeouts are
/// set to a second or three; each check allows many times that before it fails.
@Suite struct SlowClientTests {
    static func limits(_ configuration: inout ServerConfiguration) {
        configuration.connections.headerTimeout = 1
        configuration.connections.bodyTimeout = 1
        configuration.connections.keepAliveTimeout = 3
        configuration.connections.perAddress = 8
    }

    /// The connection limit alone: timeouts long enough that a loaded machine never hits them.
    static func limitOnly(_ configuration: inout ServerConfiguration) {
        configuration.connections.perAddress = 8
    }

    @Test func aHeadTricklingInIsCutOffAfterTheHeaderTimeout() async throws {
        try await withLiveApp(server: Self.limits) { family in
            let outcome = try await onOwnThread {
                let fd = try rawConnection(port: family.port)
                defer { close(fd) }
                try sendAll(fd, "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
                // One byte every 200 ms: never idle long, never done.
                return try waitForClose(fd, seconds: 15) { try sendAll(fd, "a") }
            }
            #expect(outcome.closed, "the connection stayed open for 15 s")
            #expect(outcome.received.isEmpty, "a half-sent request got an answer: \(outcome.received)")
            #expect(outcome.seconds >= 0.5)
        }
    }

    @Test func aStalledBodyIsCutOffAndNothingHappens() async throws {
        try await withLiveApp(server: Self.limits) { family in
            try await family.env.registration.setMode(.open)
            let outcome = try await onOwnThread {
                let fd = try rawConnection(port: family.port)
                defer { close(fd) }
                let body = #"{"username":"slowpoke","password":"a long family password"}"#
                try sendAll(
                    fd,
                    "POST /api/v1/register HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                        + "Content-Length: \(body.utf8.count)\r\n\r\n" + String(body.prefix(20)))
                return try waitForClose(fd, seconds: 15)
            }
            #expect(outcome.closed, "the connection stayed open for 15 s")
            #expect(outcome.received.isEmpty)
            #expect(try await family.env.accounts.users().isEmpty)
        }
    }

    @Test func anIdleKeepAliveConnectionIsClosedAfterItsTimeout() async throws {
        try await withLiveApp(server: Self.limits) { family in
            let outcome = try await onOwnThread {
                let fd = try rawConnection(port: family.port)
                defer { close(fd) }
                var answers = ""
                for _ in 0..<3 {  // requests in a row on one connection are fine
                    try sendAll(fd, "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                    answers += try readUntil(fd, "\"ok\"")
                    Thread.sleep(forTimeInterval: 0.2)
                }
                let idle = try waitForClose(fd, seconds: 15)
                return (answers, idle)
            }
            #expect(outcome.0.components(separatedBy: "HTTP/1.1 200").count == 4)
            #expect(outcome.1.closed, "the idle connection stayed open for 15 s")
            #expect(outcome.1.seconds >= 1)
        }
    }

    @Test func aWebSocketOutlivesTheHTTPTimeouts() async throws {
        try await withLiveApp(server: Self.limits) { family in
            let socket = try await family.socket(try await family.signIn("mum"))
            try await Task.sleep(for: .seconds(4))  // past the keep-alive timeout, four header timeouts
            try await socket.send(["type": "ping", "id": "still-there"])
            let pong = try await socket.next("pong")
            #expect(pong["id"] as? String == "still-there")
            await socket.close()
        }
    }

    @Test func anAddressOverItsConnectionLimitIsRefusedUntilOneCloses() async throws {
        try await withLiveApp(server: Self.limitOnly) { family in
            let answers = try await onOwnThread {
                // Connections are served until the address holds eight: seven or eight of these,
                // as HummingbirdTesting's own client holds one from 127.0.0.1 too once it has
                // connected. The next one is closed without an answer.
                var open: [Int32] = []
                defer { open.forEach { close($0) } }
                var refused: Int32?
                while refused == nil, open.count <= 8 {
                    let fd = try rawConnection(port: family.port)
                    try? sendAll(fd, "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                    if ((try? readUntil(fd, "\"ok\"")) ?? "").hasPrefix("HTTP/1.1 200") {
                        open.append(fd)
                    } else {
                        refused = fd
                    }
                }
                let served = open.count
                if let refused { close(refused) }
                close(open.removeLast())
                // The count drops when the server sees the close; try until it has.
                var nextAnswer = ""
                for _ in 0..<50 where !nextAnswer.contains("200") {
                    let next = try rawConnection(port: family.port)
                    defer { close(next) }
                    try? sendAll(next, "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                    nextAnswer = (try? readUntil(next, "\"ok\"")) ?? ""
                    if !nextAnswer.contains("200") { Thread.sleep(forTimeInterval: 0.1) }
                }
                return (served, refused != nil, nextAnswer)
            }
            #expect((7...8).contains(answers.0), "\(answers.0) connections were served before one was refused")
            #expect(answers.1, "no connection was refused")
            #expect(answers.2.hasPrefix("HTTP/1.1 200"), "no connection was taken after one closed")
        }
    }

    @Test func trustedProxiesAreNotLimited() async throws {
        try await withLiveApp(server: { configuration in
            configuration.connections.perAddress = 2
            configuration.trustedProxies = ["127.0.0.1"]
        }) { family in
            let answers = try await onOwnThread {
                let open = try (0..<6).map { _ in try rawConnection(port: family.port) }
                defer { open.forEach { close($0) } }
                for fd in open { try sendAll(fd, "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n") }
                return try open.map { try readUntil($0, "\"ok\"") }
            }
            #expect(answers.allSatisfy { $0.hasPrefix("HTTP/1.1 200") })
        }
    }

    @Test func registryCountsEachAddressOnItsOwn() {
        let registry = ConnectionRegistry(limit: 2, exempt: ["10.0.0.1"])
        #expect(registry.admit("192.168.1.2") && registry.admit("192.168.1.2"))
        #expect(!registry.admit("192.168.1.2"))
        #expect(registry.admit("192.168.1.3"))
        registry.release("192.168.1.2")
        #expect(registry.count("192.168.1.2") == 1)
        #expect(registry.admit("192.168.1.2"))
        #expect((0..<10).allSatisfy { _ in registry.admit("10.0.0.1") })
    }
}

/// What happened to a connection while waiting for it to close.
struct CloseOutcome: Sendable {
    let closed: Bool
    let seconds: TimeInterval
    let received: String
}

/// Writes all of `text`; throws when the peer has gone.
func sendAll(_ fd: Int32, _ text: String) throws {
    var bytes = Array(text.utf8)
    while !bytes.isEmpty {
        let sent = send(fd, bytes, bytes.count, Int32(MSG_NOSIGNAL))
        guard sent > 0 else { throw SocketError("send failed: errno \(errno)") }
        bytes.removeFirst(sent)
    }
}

/// Reads until the text received contains `marker` (or the peer closes).
func readUntil(_ fd: Int32, _ marker: String) throws -> String {
    var received = [UInt8]()
    var buffer = [UInt8](repeating: 0, count: 4096)
    while !String(decoding: received, as: UTF8.self).contains(marker) {
        let count = recv(fd, &buffer, buffer.count, 0)
        guard count > 0 else { break }
        received += buffer.prefix(count)
    }
    return String(decoding: received, as: UTF8.self)
}

/// Waits up to `seconds` for the server to close `fd`, calling `tick` every 200 ms meanwhile.
func waitForClose(_ fd: Int32, seconds: TimeInterval, tick: () throws -> Void = {}) throws -> CloseOutcome {
    var timeout = timeval(tv_sec: 0, tv_usec: 200_000)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    let start = Date()
    var received = [UInt8]()
    var buffer = [UInt8](repeating: 0, count: 4096)
    while Date().timeIntervalSince(start) < seconds {
        let count = recv(fd, &buffer, buffer.count, 0)
        if count == 0 || (count < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
            return CloseOutcome(
                closed: true, seconds: Date().timeIntervalSince(start),
                received: String(decoding: received, as: UTF8.self))
        }
        if count > 0 { received += buffer.prefix(count) }
        do { try tick() } catch {
            return CloseOutcome(
                closed: true, seconds: Date().timeIntervalSince(start),
                received: String(decoding: received, as: UTF8.self))
        }
    }
    return CloseOutcome(closed: false, seconds: seconds, received: String(decoding: received, as: UTF8.self))
}

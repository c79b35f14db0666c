import Foundation
import HTTPTypes
import HummingbirdWSClient
import Logging
import NIOWebSocket
import Synchronization

/// A WebSocket client for tests: collects the server's frames and sends JSON frames.
final class TestSocket: Sendable {
    /// What the connection's task and the test share.
    final class Shared: Sendable {
        let frames = Mutex<[String]>([])
        let writer = Mutex<WebSocketOutboundWriter?>(nil)
        let gate = Mutex<CheckedContinuation<Void, Never>?>(nil)
        let paused: Mutex<Bool>
        /// Why the connection ended before it opened, when it did.
        let failure = Mutex<String?>(nil)
        init(paused: Bool) { self.paused = Mutex(paused) }
    }

    private let shared: Shared
    let task: Task<WebSocketCloseFrame?, any Error>

    /// Connects to `/api/v1/ws` on 127.0.0.1. A `paused` socket reads nothing until ``resume()``,
    /// so the server's writes back up as for a slow phone.
    init(
        port: Int, token: String? = nil, headers: HTTPFields = [:], query: String = "", paused: Bool = false
    ) async throws {
        let shared = Shared(paused: paused)
        self.shared = shared
        var fields = headers
        if let token { fields[.authorization] = "Bearer \(token)" }
        task = Task {
            defer { shared.failure.withLock { $0 = $0 ?? "connection ended" } }
            do {
                return try await Self.connect(port: port, query: query, fields: fields, shared: shared)
            } catch {
                shared.failure.withLock { $0 = "\(error)" }
                throw error
            }
        }
        // Generous: CI runs every suite at once on two cores.
        let deadline = Date().addingTimeInterval(30)
        while shared.writer.withLock({ $0 == nil }) {
            if let failure = shared.failure.withLock({ $0 }) { throw SocketError("no connection: \(failure)") }
            if Date() > deadline { throw SocketError("no connection within 30 s") }
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    private static func connect(
        port: Int, query: String, fields: HTTPFields, shared: Shared
    ) async throws -> WebSocketCloseFrame? {
        try await WebSocketClient.connect(
            url: "ws://127.0.0.1:\(port)/api/v1/ws\(query)",
            configuration: .init(maxFrameSize: 1 << 20, additionalHeaders: fields),
            logger: Logger(label: "test-socket")
        ) { inbound, outbound, _ in
            shared.writer.withLock { $0 = outbound }
            if shared.paused.withLock({ $0 }) {
                await withCheckedContinuation { continuation in shared.gate.withLock { $0 = continuation } }
            }
            for try await message in inbound.messages(maxSize: 1 << 22) {
                if case .text(let text) = message { shared.frames.withLock { $0.append(text) } }
            }
        }
    }

    /// Lets a paused socket read.
    func resume() {
        shared.paused.withLock { $0 = false }
        shared.gate.withLock { gate in
            gate?.resume()
            gate = nil
        }
    }

    func send(_ object: [String: Any]) async throws {
        try await sendText(String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self))
    }

    func sendText(_ text: String) async throws {
        guard let writer = shared.writer.withLock({ $0 }) else { throw SocketError("not connected") }
        try await writer.write(.text(text))
    }

    func sendBinary() async throws {
        guard let writer = shared.writer.withLock({ $0 }) else { throw SocketError("not connected") }
        try await writer.write(.binary(.init(bytes: [1, 2, 3])))
    }

    /// The next frame (of `type`, when given), waiting up to `timeout` seconds.
    func next(_ type: String? = nil, timeout: TimeInterval = 20) async throws -> [String: Any] {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            // The first frame of that type; frames of other types stay for later calls.
            let frame: String? = shared.frames.withLock { frames in
                guard let index = frames.firstIndex(where: { type == nil || Self.type(of: $0) == type }) else {
                    return nil
                }
                return frames.remove(at: index)
            }
            if let frame {
                return (try JSONSerialization.jsonObject(with: Data(frame.utf8)) as? [String: Any]) ?? [:]
            }
            try await Task.sleep(for: .milliseconds(2))
        }
        throw SocketError("no \(type ?? "frame") within \(timeout) s")
    }

    /// Every frame of `type` received until `count` of them have arrived.
    func collect(_ type: String, count: Int, timeout: TimeInterval = 20) async throws -> [[String: Any]] {
        var result: [[String: Any]] = []
        while result.count < count { result.append(try await next(type, timeout: timeout)) }
        return result
    }

    /// Frames received and not yet taken.
    var pending: [String] { shared.frames.withLock { $0 } }

    /// Waits for the server to close the socket; returns the close code.
    func closeCode(timeout: TimeInterval = 20) async throws -> Int? {
        let task = task
        return try await withThrowingTaskGroup(of: Int?.self) { group in
            group.addTask { (try await task.value)?.closeCode.code }
            group.addTask {
                try await Task.sleep(for: .seconds(timeout))
                throw SocketError("socket still open after \(timeout) s")
            }
            let code = try await group.next() ?? nil
            group.cancelAll()
            return code
        }
    }

    func close() async {
        try? await shared.writer.withLock({ $0 })?.close(.normalClosure, reason: nil)
        _ = try? await task.value
    }

    static func type(of frame: String) -> String? {
        (try? JSONSerialization.jsonObject(with: Data(frame.utf8)) as? [String: Any])?["type"] as? String
    }
}

extension WebSocketErrorCode {
    var code: Int {
        switch self {
        case .normalClosure: 1000
        case .goingAway: 1001
        case .protocolError: 1002
        case .unacceptableData: 1003
        case .dataInconsistentWithMessage: 1007
        case .policyViolation: 1008
        case .messageTooLarge: 1009
        case .missingExtension: 1010
        case .unexpectedServerError: 1011
        case .unknown(let code): Int(code)
        }
    }
}

struct SocketError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A plain TCP connection to 127.0.0.1:`port`, for sending hand-made HTTP.
func rawConnection(port: Int) throws -> Int32 {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw SocketError("socket() failed") }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
        }
    }
    guard connected == 0 else {
        close(fd)
        throw SocketError("connect() failed")
    }
    // A read that never gets an answer fails after 30 s instead of hanging the test run.
    var timeout = timeval(tv_sec: 30, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    return fd
}

/// Runs blocking socket code on a thread of its own. On the cooperative pool (two threads on a
/// two-core machine) a blocking read that waits for the in-process server could hold a thread the
/// server needs to answer it: with two such reads at once, the whole test run stalls.
func onOwnThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try body() }) }.start()
    }
}

/// Sends a WebSocket upgrade request over a plain TCP socket and returns the response's status
/// code: for checking exactly which headers the server accepts before the upgrade.
func upgradeStatus(port: Int, headers: [String: String]) async throws -> Int {
    try await onOwnThread { try blockingUpgradeStatus(port: port, headers: headers) }
}

private func blockingUpgradeStatus(port: Int, headers: [String: String]) throws -> Int {
    let fd = try rawConnection(port: port)
    defer { close(fd) }
    var request = "GET /api/v1/ws HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nUpgrade: websocket\r\n"
    request += "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
    for (name, value) in headers { request += "\(name): \(value)\r\n" }
    request += "\r\n"
    _ = request.withCString { send(fd, $0, strlen($0), 0) }
    var buffer = [UInt8](repeating: 0, count: 1024)
    let count = recv(fd, &buffer, buffer.count, 0)
    let response = String(decoding: buffer.prefix(max(0, count)), as: UTF8.self)
    guard let status = response.split(separator: " ").dropFirst().first.flatMap({ Int($0) }) else {
        throw SocketError("no HTTP response: \(response)")
    }
    return status
}

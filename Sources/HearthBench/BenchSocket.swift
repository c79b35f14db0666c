import Foundation
import HTTPTypes
import HummingbirdWSClient
import Logging
import Synchronization

/// One benchmark WebSocket: sends frames, and hands every received text frame to `onFrame`.
final class BenchSocket: Sendable {
    private let writer = Mutex<WebSocketOutboundWriter?>(nil)
    private let task = Mutex<Task<Void, Never>?>(nil)
    let closed = Atomic<Bool>(false)

    /// Connects and waits (at most 30 s) for the upgrade.
    static func connect(
        url: String, token: String, onFrame: @escaping @Sendable (String) -> Void
    ) async throws
        -> BenchSocket
    {
        let socket = BenchSocket()
        let connected = AsyncStream<Bool>.makeStream()
        let task = Task {
            do {
                try await WebSocketClient.connect(
                    url: url,
                    configuration: .init(maxFrameSize: 1 << 20, additionalHeaders: [.authorization: "Bearer \(token)"]),
                    logger: Logger(label: "bench")
                ) { inbound, outbound, _ in
                    socket.writer.withLock { $0 = outbound }
                    connected.continuation.yield(true)
                    for try await message in inbound.messages(maxSize: 1 << 22) {
                        if case .text(let text) = message { onFrame(text) }
                    }
                }
            } catch {}
            socket.closed.store(true, ordering: .relaxed)
            connected.continuation.yield(false)
        }
        socket.task.withLock { $0 = task }
        for await ok in connected.stream {
            guard ok else { throw BenchError("WebSocket connection refused") }
            break
        }
        return socket
    }

    func send(_ text: String) async throws {
        guard let writer = writer.withLock({ $0 }) else { throw BenchError("not connected") }
        try await writer.write(.text(text))
    }

    func close() async {
        try? await writer.withLock({ $0 })?.close(.normalClosure, reason: nil)
        await task.withLock({ $0 })?.value
    }
}

/// Reads a field of a small JSON frame without a full parse: `"name":123` or `"name":"text"`.
enum FrameFields {
    static func number(_ name: String, in frame: String) -> Int64? {
        guard let range = frame.range(of: "\"\(name)\":") else { return nil }
        let digits = frame[range.upperBound...].prefix { $0.isNumber || $0 == "-" }
        return Int64(digits)
    }

    static func string(_ name: String, in frame: String) -> Substring? {
        guard let range = frame.range(of: "\"\(name)\":\"") else { return nil }
        return frame[range.upperBound...].prefix { $0 != "\"" }
    }
}

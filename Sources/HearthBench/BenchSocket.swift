import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOWebSocket
import Synchronization

/// One benchmark WebSocket: sends frames, and hands every received text frame to `onFrame`.
///
/// Written on NIO's channel handlers rather than an async WebSocket client: frames are handled
/// on the event loop that read them, with no task or continuation per frame, so the load
/// generator costs as little CPU as it can and leaves the cores to the server it measures.
final class BenchSocket: Sendable {
    /// Every benchmark socket shares NIO's event loops (one per core).
    static let group = MultiThreadedEventLoopGroup.singleton

    private let channel: any Channel
    private let frames: BenchFrameHandler

    private init(channel: any Channel, frames: BenchFrameHandler) {
        self.channel = channel
        self.frames = frames
    }

    /// Whether the socket has closed (either side).
    var isClosed: Bool { frames.closed.load(ordering: .relaxed) }

    /// Connects and waits (at most 30 s) for the upgrade.
    static func connect(
        url: String, token: String, onFrame: @escaping @Sendable (String) -> Void
    ) async throws -> BenchSocket {
        guard let components = URLComponents(string: url), let host = components.host, let port = components.port
        else { throw BenchError("not a ws:// URL with a port: \(url)") }
        let target = components.percentEncodedPath + (components.percentEncodedQuery.map { "?\($0)" } ?? "")
        let upgraded = group.next().makePromise(of: Void.self)
        let frames = BenchFrameHandler(onFrame: onFrame)
        let request = BenchUpgradeRequest(host: "\(host):\(port)", target: target, token: token, result: upgraded)
        let bootstrap = ClientBootstrap(group: group)
            .connectTimeout(.seconds(30))
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                let upgrader = NIOWebSocketClientUpgrader(maxFrameSize: 1 << 22, automaticErrorHandling: false) {
                    channel, _ in
                    channel.pipeline.removeHandler(request).flatMap { channel.pipeline.addHandler(frames) }
                        .map { upgraded.succeed() }
                }
                // Frames the server sends right after its 101 can arrive in the same read:
                // they must go on to the WebSocket decoder, not be dropped with the HTTP decoder.
                return channel.pipeline.addHTTPClientHandlers(
                    leftOverBytesStrategy: .forwardBytes,
                    withClientUpgrade: (upgraders: [upgrader], completionHandler: { _ in })
                ).flatMap { channel.pipeline.addHandler(request) }
            }
        let channel = try await bootstrap.connect(host: host, port: port).get()
        let timeout = channel.eventLoop.scheduleTask(in: .seconds(30)) {
            upgraded.fail(BenchError("WebSocket upgrade timed out"))
        }
        defer { timeout.cancel() }
        do {
            try await upgraded.futureResult.get()
        } catch {
            try? await channel.close()
            throw error
        }
        return BenchSocket(channel: channel, frames: frames)
    }

    /// Queues a text frame; throws once the socket has closed.
    func send(_ text: String) async throws {
        guard !isClosed else { throw BenchError("not connected") }
        let frame = WebSocketFrame(
            fin: true, opcode: .text, maskKey: .random(), data: channel.allocator.buffer(string: text))
        channel.writeAndFlush(frame, promise: nil)
    }

    /// Sends a close frame and waits (at most 2 s) for the server to close the connection.
    func close() async {
        var code = channel.allocator.buffer(capacity: 2)
        code.write(webSocketErrorCode: .normalClosure)
        channel.writeAndFlush(
            WebSocketFrame(fin: true, opcode: .connectionClose, maskKey: .random(), data: code), promise: nil)
        let channel = channel
        let deadline = channel.eventLoop.scheduleTask(in: .seconds(2)) { channel.close(promise: nil) }
        try? await channel.closeFuture.get()
        deadline.cancel()
    }
}

/// Sends the upgrade request once connected; fails the upgrade when the server answers otherwise.
private final class BenchUpgradeRequest: ChannelInboundHandler, RemovableChannelHandler, Sendable {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart

    let host: String
    let target: String
    let token: String
    let result: EventLoopPromise<Void>

    init(host: String, target: String, token: String, result: EventLoopPromise<Void>) {
        self.host = host
        self.target = target
        self.token = token
        self.result = result
    }

    func channelActive(context: ChannelHandlerContext) {
        let headers: HTTPHeaders = [
            "Host": host, "Authorization": "Bearer \(token)", "Content-Length": "0",
        ]
        let head = HTTPRequestHead(version: .http1_1, method: .GET, uri: target, headers: headers)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .head(let head) = unwrapInboundIn(data) {
            result.fail(BenchError("WebSocket connection refused: \(head.status.code)"))
            context.close(promise: nil)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        result.fail(error)
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        result.fail(BenchError("WebSocket connection closed before the upgrade"))
        context.fireChannelInactive()
    }
}

/// The socket after the upgrade: text frames to `onFrame`, pings answered, closes noted.
private final class BenchFrameHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    let onFrame: @Sendable (String) -> Void
    let closed = Synchronization.Atomic<Bool>(false)
    /// A text message arriving in several frames (only touched on the channel's event loop).
    private let fragments = NIOLockedValueBox<ByteBuffer?>(nil)

    init(onFrame: @escaping @Sendable (String) -> Void) {
        self.onFrame = onFrame
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        switch frame.opcode {
        case .text where frame.fin:
            onFrame(String(buffer: frame.unmaskedData))
        case .text, .continuation:
            let message: ByteBuffer? = fragments.withLockedValue { fragments in
                var buffer = frame.opcode == .text ? frame.unmaskedData : (fragments ?? ByteBuffer())
                if frame.opcode == .continuation { buffer.writeImmutableBuffer(frame.unmaskedData) }
                fragments = frame.fin ? nil : buffer
                return frame.fin ? buffer : nil
            }
            if let message { onFrame(String(buffer: message)) }
        case .ping:
            let pong = WebSocketFrame(fin: true, opcode: .pong, maskKey: .random(), data: frame.unmaskedData)
            context.writeAndFlush(wrapOutboundOut(pong), promise: nil)
        case .connectionClose:
            closed.store(true, ordering: .relaxed)
            let reply = WebSocketFrame(
                fin: true, opcode: .connectionClose, maskKey: .random(), data: frame.unmaskedData)
            let channel = context.channel
            context.writeAndFlush(wrapOutboundOut(reply)).whenComplete { _ in channel.close(promise: nil) }
        default:
            break
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        closed.store(true, ordering: .relaxed)
        context.fireChannelInactive()
    }
}

/// Reads a field of a small JSON frame without a full parse: `"name":123` or `"name":"text"`.
///
/// Byte searches over UTF-8: Foundation's `range(of:)` and `contains` cost the load generator a
/// tenth of its CPU time, which it needs for the load.
enum FrameFields {
    static func number(_ name: String, in frame: String) -> Int64? {
        guard let start = end(of: "\"\(name)\":", in: frame) else { return nil }
        let utf8 = frame.utf8
        var index = start
        var value: Int64 = 0
        var negative = false
        if index < utf8.endIndex, utf8[index] == UInt8(ascii: "-") {
            negative = true
            index = utf8.index(after: index)
        }
        let first = index
        while index < utf8.endIndex, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(utf8[index]) {
            value = value &* 10 &+ Int64(utf8[index] - UInt8(ascii: "0"))
            index = utf8.index(after: index)
        }
        guard index > first else { return nil }
        return negative ? -value : value
    }

    static func string(_ name: String, in frame: String) -> Substring? {
        guard let start = end(of: "\"\(name)\":\"", in: frame) else { return nil }
        let end = frame.utf8[start...].firstIndex(of: UInt8(ascii: "\"")) ?? frame.utf8.endIndex
        return frame[start..<end]
    }

    /// Whether `needle` occurs in `frame`.
    static func has(_ needle: String, in frame: String) -> Bool { end(of: needle, in: frame) != nil }

    /// The index just past the first `needle` in `frame`.
    static func end(of needle: String, in frame: String) -> String.Index? {
        let haystack = frame.utf8
        let pattern = Array(needle.utf8)
        guard let first = pattern.first, haystack.count >= pattern.count else { return nil }
        var index = haystack.startIndex
        while let found = haystack[index...].firstIndex(of: first) {
            var candidate = found
            var matched = 0
            while matched < pattern.count, candidate < haystack.endIndex, haystack[candidate] == pattern[matched] {
                candidate = haystack.index(after: candidate)
                matched += 1
            }
            if matched == pattern.count { return candidate }
            index = haystack.index(after: found)
        }
        return nil
    }
}

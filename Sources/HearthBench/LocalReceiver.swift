import Foundation
import Histogram
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// An HTTP service on 127.0.0.1 standing in for what Hearth sends to (a push service, a
/// webhook's receiver): it answers every request with `status`, counts them, and notes how long
/// after the last `sent(key:)` for the request's key (`key` reads it from the request) each one
/// arrived.
final class LocalReceiver: Sendable {
    typealias Key = @Sendable (HTTPRequestHead, ByteBuffer) -> Int64?

    private let channel: any Channel
    private let state = Mutex(State())
    private struct State {
        var count = 0
        var lastSent: [Int64: UInt64] = [:]
        var latencies = LocalReceiver.histogram()
    }

    init(status: HTTPResponseStatus, key: @escaping Key) throws {
        let box = Box()
        channel = try ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.pipeline.configureHTTPServerPipeline().flatMap {
                    channel.pipeline.addHandler(ReceiverHandler(receiver: box, status: status, key: key))
                }
            }
            .bind(host: "127.0.0.1", port: 0).wait()
        box.receiver = self
    }

    private static func histogram() -> Histogram<UInt64> {
        Histogram<UInt64>(highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: .three)
    }

    /// `http://127.0.0.1:PORT`.
    var url: String { "http://127.0.0.1:\(channel.localAddress?.port ?? 0)" }

    var count: Int { state.withLock { $0.count } }

    func sent(key: Int64) {
        let now = DispatchTime.now().uptimeNanoseconds
        state.withLock { $0.lastSent[key] = now }
    }

    func received(key: Int64?) {
        let now = DispatchTime.now().uptimeNanoseconds
        state.withLock { state in
            state.count += 1
            if let key, let sent = state.lastSent[key], now > sent {
                state.latencies.record((now - sent) / 1000)
            }
        }
    }

    func resetLatencies() {
        state.withLock { $0.latencies = Self.histogram() }
    }

    /// Milliseconds from the last `sent(key:)` to the request's arrival.
    func latencies() -> (p50: Double, p99: Double) {
        state.withLock { state in
            (Double(state.latencies.valueAtPercentile(50)) / 1000, Double(state.latencies.valueAtPercentile(99)) / 1000)
        }
    }

    func stop() {
        try? channel.close().wait()
    }

    /// Lets the handler reach the receiver once it exists.
    final class Box: @unchecked Sendable {
        weak var receiver: LocalReceiver?
    }
}

private final class ReceiverHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let receiver: LocalReceiver.Box
    let status: HTTPResponseStatus
    let key: LocalReceiver.Key
    private var head: HTTPRequestHead?
    private var body = ByteBuffer()

    init(receiver: LocalReceiver.Box, status: HTTPResponseStatus, key: @escaping LocalReceiver.Key) {
        self.receiver = receiver
        self.status = status
        self.key = key
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            body.clear()
        case .body(var part):
            body.writeBuffer(&part)
        case .end:
            receiver.receiver?.received(key: head.flatMap { key($0, body) })
            let head = HTTPResponseHead(
                version: .http1_1, status: status, headers: ["Content-Length": "0", "Location": "/m/1"])
            context.write(wrapOutboundOut(.head(head)), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        }
    }
}

import ArgumentParser
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOWebSocket
import Synchronization

/// `HearthBench echo-server`: a trivial relay to calibrate the load generator against.
///
/// It speaks just enough of Hearth's protocol for `pm --echo`: the bearer token `echo-N` makes a
/// socket user N; a `send` to room R is acked at once, forwarded to user R as a `message`, and a
/// `delivered` receipt goes back once that is written — the same three frames per message as
/// Hearth, with no database, no JSON decoding, no authentication and no Swift tasks. What it
/// reaches on a machine is the most the load generator and the sockets allow there.
struct EchoServer: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "echo-server",
        abstract: "A trivial relay (no database) to measure what the load generator and sockets alone allow.")

    @Option(help: "Port on 127.0.0.1 (0: any free port).") var port = 0

    func run() throws {
        let relay = EchoRelay()
        let bootstrap = ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                let health = EchoHealthHandler()
                let upgrader = NIOWebSocketServerUpgrader(
                    maxFrameSize: 1 << 20,
                    shouldUpgrade: { channel, _ in channel.eventLoop.makeSucceededFuture(HTTPHeaders()) },
                    upgradePipelineHandler: { channel, head in
                        let token = head.headers["Authorization"].first ?? ""
                        let user = Int(token.split(separator: "-").last ?? "") ?? -1
                        relay.add(user: user, channel: channel)
                        return channel.pipeline.removeHandler(health).flatMap {
                            channel.pipeline.addHandler(EchoSocketHandler(user: user, relay: relay))
                        }
                    })
                return channel.pipeline.configureHTTPServerPipeline(
                    withServerUpgrade: (upgraders: [upgrader], completionHandler: { _ in })
                ).flatMap { channel.pipeline.addHandler(health) }
            }
        let server = try bootstrap.bind(host: "127.0.0.1", port: port).wait()
        // Unbuffered: BenchServer waits for this line on a pipe.
        FileHandle.standardOutput.write(
            Data("Hearth is running at http://127.0.0.1:\(server.localAddress?.port ?? 0) (echo-server)\n".utf8))
        try server.closeFuture.wait()
    }
}

/// The sockets by user, and the one sequence.
private final class EchoRelay: Sendable {
    private let sockets = Mutex([Int: any Channel]())
    private let seq = Atomic<Int64>(0)

    func add(user: Int, channel: any Channel) {
        sockets.withLock { $0[user] = channel }
    }

    func socket(of user: Int) -> (any Channel)? { sockets.withLock { $0[user] } }

    func nextSeq() -> Int64 { seq.add(1, ordering: .relaxed).newValue }
}

/// Answers `GET /healthz` (and anything else) with 200 before an upgrade.
private final class EchoHealthHandler: ChannelInboundHandler, RemovableChannelHandler, Sendable {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .end = unwrapInboundIn(data) else { return }
        let body = context.channel.allocator.buffer(string: "ok")
        let head = HTTPResponseHead(
            version: .http1_1, status: .ok, headers: ["Content-Length": "2", "Connection": "close"])
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in channel.close(promise: nil) }
    }
}

/// One upgraded socket: acks and forwards each `send`, answers pings and closes.
private final class EchoSocketHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    let user: Int
    let relay: EchoRelay

    init(user: Int, relay: EchoRelay) {
        self.user = user
        self.relay = relay
    }

    static func frame(_ text: String, on channel: any Channel) -> WebSocketFrame {
        WebSocketFrame(fin: true, opcode: .text, data: channel.allocator.buffer(string: text))
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        let sender = context.channel
        switch frame.opcode {
        case .text:
            let text = String(buffer: frame.unmaskedData)
            guard let room = FrameFields.number("room", in: text), let id = FrameFields.string("id", in: text),
                let body = FrameFields.string("body", in: text)
            else { return }
            let seq = relay.nextSeq()
            let ts = Int64(Date().timeIntervalSince1970 * 1000)
            sender.writeAndFlush(
                Self.frame("{\"id\":\"\(id)\",\"seq\":\(seq),\"ts\":\(ts),\"type\":\"ack\"}", on: sender), promise: nil)
            guard let recipient = relay.socket(of: Int(room)) else { return }
            let message =
                "{\"attachments\":[],\"body\":\"\(body)\",\"from\":{\"id\":\(user),\"username\":\"pm\(user)\"},"
                + "\"id\":\(seq),\"room\":\(room),\"seq\":\(seq),\"ts\":\(ts),\"type\":\"message\"}"
            let receipt =
                "{\"kind\":\"delivered\",\"room\":\(room),\"seq\":\(seq),\"type\":\"receipt\",\"user\":\"pm\(room)\"}"
            recipient.writeAndFlush(Self.frame(message, on: recipient)).whenSuccess {
                sender.writeAndFlush(Self.frame(receipt, on: sender), promise: nil)
            }
        case .ping:
            context.writeAndFlush(
                wrapOutboundOut(WebSocketFrame(fin: true, opcode: .pong, data: frame.unmaskedData)), promise: nil)
        case .connectionClose:
            context.writeAndFlush(
                wrapOutboundOut(WebSocketFrame(fin: true, opcode: .connectionClose, data: frame.unmaskedData))
            )
            .whenComplete { _ in sender.close(promise: nil) }
        default:
            break
        }
    }
}

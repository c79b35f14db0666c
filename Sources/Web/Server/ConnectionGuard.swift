import Foundation
import Logging
import NIOCore
import NIOHTTP1
import Services
import Synchronization

/// Open connections per client address, shared by every connection of the server.
final class ConnectionRegistry: Sendable {
    let limit: Int
    /// Addresses never limited: trusted reverse proxies, which carry everyone's connections.
    let exempt: Set<String>
    private let open = Mutex([String: Int]())

    init(limit: Int, exempt: Set<String>) {
        self.limit = limit
        self.exempt = exempt
    }

    /// Counts a new connection from `address`; false (and not counted) when it already has
    /// `limit` open.
    func admit(_ address: String) -> Bool {
        guard !exempt.contains(address) else { return true }
        return open.withLock { open in
            guard open[address, default: 0] < limit else { return false }
            open[address, default: 0] += 1
            return true
        }
    }

    /// Forgets a connection that ``admit(_:)`` counted.
    func release(_ address: String) {
        guard !exempt.contains(address) else { return }
        open.withLock { open in
            let count = open[address, default: 0] - 1
            open[address] = count > 0 ? count : nil
        }
    }

    /// Connections open from `address` now.
    func count(_ address: String) -> Int {
        open.withLock { $0[address, default: 0] }
    }
}

/// The deadlines of one HTTP connection against slow clients (slowloris): a request's head must
/// arrive within `headerTimeout` of its first byte, its body may pause at most `bodyTimeout`,
/// and an idle connection is closed after `keepAliveTimeout`. Nothing runs while the server
/// works on a request, and nothing after the connection became a WebSocket (pings watch those).
///
/// Used only on the connection's event loop, by ``ConnectionGuard`` (which sees raw bytes)
/// and ``RequestDeadlineHandler`` (which sees the decoded request).
final class SlowClientTimer {
    enum Phase {
        /// Between requests, no byte of the next one yet.
        case idle
        /// Bytes of a request have come, its head not yet whole.
        case readingHead
        case readingBody
        /// The request is whole; the server answers it.
        case responding
        /// A WebSocket now, or closed.
        case done
    }

    private(set) var phase = Phase.idle
    private let limits: ServerConfiguration.ConnectionLimits
    private let channel: any Channel
    private var deadline: Scheduled<Void>?
    /// Ends the connection when a deadline passes; set by ``RequestDeadlineHandler``.
    var expire: () -> Void

    init(limits: ServerConfiguration.ConnectionLimits, channel: any Channel) {
        self.limits = limits
        self.channel = channel
        expire = { channel.close(promise: nil) }
    }

    func connectionOpened() { arm(limits.keepAliveTimeout) }

    func bytesArrived() {
        guard phase == .idle else { return }
        phase = .readingHead
        arm(limits.headerTimeout)
    }

    func headArrived() {
        guard phase != .done else { return }
        phase = .readingBody
        arm(limits.bodyTimeout)
    }

    func bodyArrived() {
        if phase == .readingBody { arm(limits.bodyTimeout) }
    }

    func requestEnded() {
        guard phase != .done else { return }
        phase = .responding
        deadline?.cancel()
    }

    func responseEnded() {
        guard phase == .responding else { return }
        phase = .idle
        arm(limits.keepAliveTimeout)
    }

    func stop() {
        phase = .done
        deadline?.cancel()
    }

    private func arm(_ seconds: TimeInterval) {
        deadline?.cancel()
        deadline = channel.eventLoop.assumeIsolated().scheduleTask(in: .nanoseconds(Int64(seconds * 1_000_000_000))) {
            self.phase = .done
            self.expire()
        }
    }
}

/// First in every admitted connection's pipeline (before TLS): starts the timer, tells it when
/// bytes of a new request begin to arrive, and gives the connection's place in the registry
/// back when it closes.
final class ConnectionGuard: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let registry: ConnectionRegistry
    private let timer: SlowClientTimer
    private var address: String?

    /// For a connection from `address`, which `registry` admitted.
    init(registry: ConnectionRegistry, address: String, timer: SlowClientTimer) {
        self.registry = registry
        self.address = address
        self.timer = timer
    }

    func handlerAdded(context: ChannelHandlerContext) {
        timer.connectionOpened()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        release()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        timer.bytesArrived()
        context.fireChannelRead(data)
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer.stop()
        release()
        context.fireChannelInactive()
    }

    private func release() {
        if let address {
            registry.release(address)
            self.address = nil
        }
    }
}

/// Right after the HTTP decoder: moves the timer along a request (head, body, end) and its
/// answer. Leaves the pipeline when the connection's first request asks for a WebSocket (only
/// the first can become one), before the upgrade replaces the HTTP handlers around it.
final class RequestDeadlineHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    private let timer: SlowClientTimer
    private var firstRequest = true

    init(timer: SlowClientTimer) {
        self.timer = timer
    }

    func handlerAdded(context: ChannelHandlerContext) {
        // To the handlers after this one a client that took too long has gone: the WebSocket
        // upgrade handler, still waiting for the first request, then ends quietly.
        timer.expire = {
            context.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
            context.close(promise: nil)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        let channel = context.channel
        timer.expire = { channel.close(promise: nil) }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            defer { firstRequest = false }
            if firstRequest, head.headers[canonicalForm: "upgrade"].contains(where: { $0.lowercased() == "websocket" })
            {
                timer.stop()
                context.fireChannelRead(data)
                context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
                return
            }
            timer.headArrived()
        case .body: timer.bodyArrived()
        case .end: timer.requestEnded()
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) { timer.responseEnded() }
        context.write(data, promise: promise)
    }
}

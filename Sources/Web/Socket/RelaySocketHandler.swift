import Logging
import NIOCore
import NIOWebSocket
import Services

/// One relay WebSocket after its `101`, on the channel's event loop: RFC 6455 on top of NIO's
/// frame decoder and encoder, with no task of its own while the socket is idle.
///
/// Client messages (fragments joined, text checked to be UTF-8) go to the device's
/// ``RelaySession`` through a ``SocketInbox``; the outbox is written by a ``SocketWriter``. The
/// handler answers pings, pings the client every `pingInterval` and closes a socket whose pong
/// has not come back by the next one (1001), and runs the closing handshake either way.
///
/// Errors close with their RFC code: an unmasked or reserved-bit frame, a stray continuation or
/// an unknown opcode 1002, a message over `maxMessageBytes` 1009 (one frame over it, which NIO's
/// decoder refuses, as well as fragments that add up to more), text that is not UTF-8 1007. After
/// its close frame the server waits for the client's (at most ``closeTimeout``), reading and
/// dropping whatever else comes, so the client gets the close code rather than a TCP reset.
final class RelaySocketHandler: ChannelDuplexHandler {
    typealias InboundIn = WebSocketFrame
    typealias OutboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    /// How long a socket that sent its close frame waits for the client's before it hangs up.
    static let closeTimeout = TimeAmount.seconds(5)

    private let session: RelaySession
    private let hub: RelayHub
    private let after: Int64?
    private let maxMessageBytes: Int
    private let pingInterval: TimeAmount
    private let logger: Logger

    /// This handler's place in the pipeline, while it is there.
    private var context: ChannelHandlerContext?
    private var inbox: SocketInbox?
    private var writer: SocketWriter?
    /// A message whose first fragments have come: its opcode and the bytes so far.
    private var fragments: (opcode: WebSocketOpcode, data: ByteBuffer)?
    /// Whether this side has sent its close frame.
    private var closeSent = false
    private var keepAlive: RepeatedTask?
    private var closeDeadline: Scheduled<Void>?
    /// The payload of the ping still waiting for its pong.
    private var unansweredPing: UInt64?
    private var pings: UInt64 = 0
    /// Reading stops while the inbox is full; a read asked for meanwhile waits here.
    private var readingPaused = false
    private var readPending = false

    init(
        session: RelaySession, hub: RelayHub, after: Int64?, maxMessageBytes: Int, pingInterval: TimeAmount,
        logger: Logger
    ) {
        self.session = session
        self.logger = logger
        self.hub = hub
        self.after = after
        self.maxMessageBytes = maxMessageBytes
        self.pingInterval = pingInterval
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
        let connection = session.connection
        let session = session
        // The frame encoder NIO's upgrader added: the writer writes its encoded frames below it
        // (from this handler's own place in a pipeline without one, which amounts to the same).
        let encoder = (try? context.pipeline.syncOperations.context(handlerType: WebSocketFrameEncoder.self)) ?? context
        writer = SocketWriter(connection: connection, channel: context.channel, output: encoder, hub: hub) { reason in
            loopBound.value.outboxClosed(reason)
        }
        let writer = writer
        let eventLoop = context.eventLoop
        inbox = SocketInbox(
            session: session,
            onRoom: { eventLoop.execute { loopBound.value.resumeReading() } },
            onEnd: {
                await writer?.finished()
                await session.close()
            })
        keepAlive = context.eventLoop.scheduleRepeatedTask(initialDelay: pingInterval, delay: pingInterval) { _ in
            loopBound.value.sendPing()
        }
        if let after { inbox?.receive(.sync(after: after)) }
        if !context.channel.isActive { ended() }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        ended()
        self.context = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        ended()
        context.fireChannelInactive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        // The client shut its sending side: nothing more will come, so the socket is done.
        if case .inputClosed = event as? ChannelEvent {
            context.close(promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        switch error {
        case let error as NIOWebSocketError:
            // The frame decoder refused a frame and decodes nothing more on this connection.
            fail(context, error == .invalidFrameLength ? .messageTooLarge : .protocolError)
        case ByteToMessageDecoderError.dataReceivedInErrorState:
            // What the client sends after a refused frame: read and dropped until it closes.
            break
        default:
            logger.debug("socket error", metadata: ["error": "\(error)"])
            context.close(promise: nil)
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { writer?.writable() }
        context.fireChannelWritabilityChanged()
    }

    func read(context: ChannelHandlerContext) {
        if readingPaused {
            readPending = true
        } else {
            context.read()
        }
    }

    // MARK: Frames from the client

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        if closeSent, frame.opcode != .connectionClose { return }  // Nothing more is read after a close.
        guard frame.maskKey != nil, frame.reservedBits.isEmpty else { return fail(context, .protocolError) }
        switch frame.opcode {
        case .text, .binary:
            guard fragments == nil else { return fail(context, .protocolError) }
            if frame.fin {
                message(context, opcode: frame.opcode, data: frame.unmaskedData)
            } else {
                fragments = (frame.opcode, frame.unmaskedData)
            }
        case .continuation:
            guard let (opcode, first) = fragments else { return fail(context, .protocolError) }
            fragments = nil  // so that `data` below is the buffer's only owner and grows in place
            var data = first
            guard data.readableBytes + frame.length <= maxMessageBytes else {
                return fail(context, .messageTooLarge)
            }
            var more = frame.unmaskedData
            data.writeBuffer(&more)
            if frame.fin {
                message(context, opcode: opcode, data: data)
            } else {
                fragments = (opcode, data)
            }
        case .ping:
            context.writeAndFlush(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .pong, data: frame.unmaskedData)))
                .whenFailure { _ in }
        case .pong:
            var data = frame.unmaskedData
            if let ping = unansweredPing, data.readInteger(as: UInt64.self) == ping { unansweredPing = nil }
        case .connectionClose:
            receivedClose(context, data: frame.unmaskedData)
        default:
            fail(context, .protocolError)
        }
    }

    private func message(_ context: ChannelHandlerContext, opcode: WebSocketOpcode, data: ByteBuffer) {
        let item: SocketInbox.Item
        if opcode == .text {
            guard let text = data.withUnsafeReadableBytes({ String(validating: $0, as: UTF8.self) }) else {
                return fail(context, .dataInconsistentWithMessage)
            }
            item = .text(text)
        } else {
            item = .binary
        }
        if let inbox, inbox.receive(item) >= SocketInbox.readAheadLimit { readingPaused = true }
    }

    private func resumeReading() {
        guard readingPaused, let inbox, inbox.queued < SocketInbox.readAheadLimit else { return }
        readingPaused = false
        if readPending {
            readPending = false
            context?.read()
        }
    }

    // MARK: Closing

    /// The client's close frame: answered with ours (unless we sent one first), then the
    /// connection is closed. Queued outbound frames are dropped; the device syncs them next time.
    private func receivedClose(_ context: ChannelHandlerContext, data: ByteBuffer) {
        session.connection.outbox.close(.clientGone)
        guard !closeSent else {
            context.close(promise: nil)
            return
        }
        sendClose(context, code: Self.answer(toClose: data), reason: nil, thenHangUp: true)
    }

    /// The code to answer a client's close frame with (RFC 6455 §7.4): 1000, or 1002 for a
    /// one-byte payload, a code no one may send, or a reason that is not UTF-8.
    static func answer(toClose payload: ByteBuffer) -> WebSocketErrorCode {
        guard payload.readableBytes > 0 else { return .normalClosure }
        var payload = payload
        guard let code = payload.readWebSocketErrorCode() else { return .protocolError }
        if case .unknown(let number) = code, number < 3000 || number > 4999 { return .protocolError }
        let reasonIsText = payload.withUnsafeReadableBytes { String(validating: $0, as: UTF8.self) } != nil
        return reasonIsText ? .normalClosure : .protocolError
    }

    /// The outbox has closed and its last frame is written: close the socket with the reason's
    /// code, unless the client is gone or already closed.
    private func outboxClosed(_ reason: CloseReason) {
        guard reason != .clientGone, let context else { return }
        sendClose(
            context, code: WebSocketErrorCode(codeNumber: Int(reason.code)), reason: reason.text, thenHangUp: false)
    }

    /// A protocol error: the close frame with its code, then the client's close frame is awaited
    /// (at most ``closeTimeout``) while anything else it sends is read and dropped: hanging up
    /// with its bytes unread would answer the client with a TCP reset instead of the code.
    private func fail(_ context: ChannelHandlerContext, _ code: WebSocketErrorCode) {
        session.connection.outbox.close(.clientGone)
        sendClose(context, code: code, reason: nil, thenHangUp: false)
    }

    /// Sends this side's close frame once. Then either hangs up as soon as it is written, or
    /// waits for the client's close frame, at most ``closeTimeout``.
    private func sendClose(
        _ context: ChannelHandlerContext, code: WebSocketErrorCode, reason: String?, thenHangUp: Bool
    ) {
        guard !closeSent else { return }
        closeSent = true
        keepAlive?.cancel()
        let written = context.writeAndFlush(
            wrapOutboundOut(Self.closeFrame(code: code, reason: reason, allocator: context.channel.allocator)))
        let channel = context.channel
        if thenHangUp {
            written.whenComplete { _ in channel.close(promise: nil) }
        } else {
            closeDeadline = context.eventLoop.scheduleTask(in: Self.closeTimeout) { channel.close(promise: nil) }
        }
    }

    /// A close frame with `code` and, if given, `reason`.
    static func closeFrame(code: WebSocketErrorCode, reason: String?, allocator: ByteBufferAllocator) -> WebSocketFrame
    {
        var data = allocator.buffer(capacity: 2 + (reason?.utf8.count ?? 0))
        data.write(webSocketErrorCode: code)
        if let reason { data.writeString(reason) }
        return WebSocketFrame(fin: true, opcode: .connectionClose, data: data)
    }

    /// Every `pingInterval`: a ping, or, if the last one got no pong, the end of the socket.
    private func sendPing() {
        guard !closeSent, let context else { return }
        guard unansweredPing == nil else {
            session.connection.outbox.close(.clientGone)
            return sendClose(context, code: .goingAway, reason: "ping timeout", thenHangUp: true)
        }
        pings &+= 1
        unansweredPing = pings
        var data = context.channel.allocator.buffer(capacity: 8)
        data.writeInteger(pings)
        context.writeAndFlush(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .ping, data: data)), promise: nil)
    }

    /// The connection has closed: the session ends once the client's last message is handled.
    private func ended() {
        keepAlive?.cancel()
        keepAlive = nil
        closeDeadline?.cancel()
        closeDeadline = nil
        session.connection.outbox.close(.clientGone)
        inbox?.end()
        // The inbox ends the session and lets the writer go; nothing here holds either any more.
        inbox = nil
        writer = nil
    }
}

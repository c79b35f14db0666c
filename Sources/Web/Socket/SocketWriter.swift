import NIOCore
import NIOWebSocket
import Services
import Synchronization

/// Writes one socket's outbox straight into its channel, on the channel's event loop.
///
/// hummingbird-websocket's writer takes one frame at a time: a task wake-up, a hop to the event
/// loop and a flush (a `writev`) for every frame, which made writing the largest cost of
/// delivering a message. Here a frame arriving in an empty outbox schedules one drain on the
/// event loop, which encodes every frame waiting into one buffer (a server's frames are unmasked:
/// a header of 2, 4 or 10 bytes, then the text) and writes and flushes it once, below NIO's frame
/// encoder (through `output`, the encoder's own context), rather than passing each frame down the
/// pipeline and through the encoder as a buffer of its own.
///
/// A channel that is not writable (the client reads slowly) is not written to: its frames wait in
/// the outbox until the channel says it is writable again (``writable()``). If the outbox fills
/// first, the hub cuts the device off (4008); the frames still queued then are dropped (the
/// device syncs them when it reconnects).
final class SocketWriter: Sendable {
    private struct State {
        var scheduled = false
        var finished = false
    }

    private let connection: RelayConnection
    private let channel: any Channel
    /// Where encoded frames are written: the context of the channel's `WebSocketFrameEncoder`, so
    /// that they go on toward the socket without passing through it.
    private let output: NIOLoopBound<ChannelHandlerContext>
    private let hub: RelayHub
    private let state = Mutex(State())
    /// Succeeds once the outbox is closed and every frame is written.
    private let done: EventLoopPromise<Void>
    /// Called on the event loop once the outbox has closed and its last frame is written.
    private let onClosed: @Sendable (CloseReason) -> Void

    init(
        connection: RelayConnection, channel: any Channel, output: ChannelHandlerContext, hub: RelayHub,
        onClosed: @escaping @Sendable (CloseReason) -> Void
    ) {
        self.connection = connection
        self.channel = channel
        self.output = NIOLoopBound(output, eventLoop: channel.eventLoop)
        self.hub = hub
        self.onClosed = onClosed
        done = channel.eventLoop.makePromise()
        connection.outbox.whenReady { [weak self] in self?.schedule() }
    }

    /// Waits until the outbox has closed and its last frame is written.
    func finished() async {
        try? await done.futureResult.get()
    }

    /// The channel has become writable again: what waited is written now.
    func writable() {
        schedule()
    }

    private func schedule() {
        let first = state.withLock { state in
            defer { state.scheduled = true }
            return !state.scheduled && !state.finished
        }
        guard first else { return }
        channel.eventLoop.execute { self.drain() }
    }

    /// On the event loop: writes everything waiting, then flushes once.
    private func drain() {
        state.withLock { $0.scheduled = false }
        let closing = connection.outbox.closeReason
        // Not writable: ``writable()`` comes when it is.
        guard channel.isWritable || closing != nil || !channel.isActive else { return }
        let (frames, closed) = connection.outbox.take()
        // A device cut off for being too slow will reconnect and sync: what it could not take is
        // dropped here, not pushed into a socket that cannot take it. (Live messages among it were
        // receipted when queued, as the last bytes a socket holds are when a phone walks out of
        // range; frames of a sync are receipted only once written, below.) A client that has
        // closed or broken the protocol reads nothing more either.
        if channel.isActive, closed != .tooSlow, closed != .clientGone, !frames.isEmpty {
            var buffer = channel.allocator.buffer(
                capacity: frames.reduce(0) { $0 + Self.headerSize($1.text.utf8.count) + $1.text.utf8.count })
            for frame in frames {
                Self.writeTextFrame(frame.text, to: &buffer)
                if let delivery = frame.delivery { hub.delivered(delivery, to: connection) }
            }
            output.value.writeAndFlush(NIOAny(buffer), promise: nil)
        }
        if let closed {
            let last = state.withLock { state in
                defer { state.finished = true }
                return !state.finished
            }
            if last {
                onClosed(closed)
                done.succeed()
            }
        }
    }

    /// The bytes of an unmasked frame's header for a payload of `length` bytes (RFC 6455 §5.2).
    static func headerSize(_ length: Int) -> Int {
        length < 126 ? 2 : length <= 0xFFFF ? 4 : 10
    }

    /// Appends one final, unmasked text frame carrying `text`.
    static func writeTextFrame(_ text: String, to buffer: inout ByteBuffer) {
        let length = text.utf8.count
        buffer.writeInteger(UInt8(0x81))  // FIN, text
        if length < 126 {
            buffer.writeInteger(UInt8(length))
        } else if length <= 0xFFFF {
            buffer.writeInteger(UInt8(126))
            buffer.writeInteger(UInt16(length))
        } else {
            buffer.writeInteger(UInt8(127))
            buffer.writeInteger(UInt64(length))
        }
        buffer.writeString(text)
    }
}

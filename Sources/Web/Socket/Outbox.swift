import Storage
import Synchronization

/// Why a socket is being closed by the server.
public enum CloseReason: Sendable, Equatable {
    /// The server is shutting down (WebSocket 1001).
    case goingAway
    /// The device fell behind and must reconnect and `sync` (4008).
    case tooSlow
    /// The device's session ended: signed out, revoked, or the account disabled (4001).
    case sessionEnded
    /// The device or its user already has as many sockets open as allowed (4029): the newest is refused.
    case tooManySockets
    /// The client closed the socket or broke the protocol: the WebSocket layer answers it, so
    /// the writer sends no close frame of its own.
    case clientGone

    /// The WebSocket close code.
    public var code: UInt16 {
        switch self {
        case .goingAway: 1001
        case .tooSlow: 4008
        case .sessionEnded: 4001
        case .tooManySockets: 4029
        case .clientGone: 1000
        }
    }

    /// The close frame's reason text.
    public var text: String {
        switch self {
        case .goingAway: "server shutting down"
        case .tooSlow: "too slow: reconnect and sync"
        case .sessionEnded: "session ended"
        case .tooManySockets: "too many sockets open for this device or account"
        case .clientGone: "client gone"
        }
    }
}

/// Why a new socket is closed as soon as it opens.
public struct CloseRefusal: Error, Sendable {
    public let reason: CloseReason
}

/// The frames waiting to be written to one socket, bounded in count and bytes.
///
/// Producers (fan-out, acks, sync) push; the socket's writer takes everything waiting at once —
/// either a task awaiting ``next()``, or a writer woken by ``whenReady(_:)`` that calls
/// ``take()``. A full outbox refuses the frame: the caller then cuts the device off rather than
/// let one slow reader hold memory or slow anyone else.
public final class Outbox: Sendable {
    /// One text frame, and the message it delivers (for delivery receipts).
    public struct Frame: Sendable {
        public let text: String
        public let delivery: Delivery?
    }

    /// A delivered message: enough to tell its sender.
    public struct Delivery: Sendable {
        public let roomID: Int64
        public let seq: Int64
        public let senderID: Int64

        /// The delivery of `message`; nil when it has no sender any more.
        init?(_ message: Message) {
            guard let senderID = message.senderID else { return nil }
            (roomID, seq, self.senderID) = (message.roomID, message.seq, senderID)
        }
    }

    private struct State: ~Copyable {
        var frames: [Frame] = []
        var bytes = 0
        var closing: CloseReason?
        var reader: CheckedContinuation<[Frame], Never>?
        var wake: (@Sendable () -> Void)?
        var spaceWaiters: [CheckedContinuation<Bool, Never>] = []
    }

    let maxFrames: Int
    let maxBytes: Int
    private let state = Mutex(State())

    init(maxFrames: Int, maxBytes: Int) {
        self.maxFrames = maxFrames
        self.maxBytes = maxBytes
    }

    /// Queues a frame; false when the outbox is full or closing (nothing is queued then).
    func push(_ frame: Frame) -> Bool {
        let (queued, wake): (Bool, (@Sendable () -> Void)?) = state.withLock { state in
            let size = frame.text.utf8.count
            guard state.closing == nil, state.frames.count < maxFrames, state.bytes + size <= maxBytes else {
                return (false, nil)
            }
            state.frames.append(frame)
            state.bytes += size
            if let reader = state.reader {
                state.reader = nil
                reader.resume(returning: Self.take(&state))
            }
            // Only the first frame into an empty outbox wakes the writer: it takes all of them.
            return (true, state.frames.count == 1 ? state.wake : nil)
        }
        wake?()
        return queued
    }

    /// Calls `wake` (from whichever thread pushes) whenever a frame arrives in an empty outbox,
    /// and when the outbox closes; the writer then calls ``take()``. Replaces ``next()``.
    public func whenReady(_ wake: @escaping @Sendable () -> Void) {
        let now: Bool = state.withLock { state in
            state.wake = wake
            return !state.frames.isEmpty || state.closing != nil
        }
        if now { wake() }
    }

    /// Everything waiting now (perhaps nothing), and the close reason once the outbox is closed:
    /// after a take that returns a reason, nothing more will ever be queued.
    public func take() -> (frames: [Frame], closed: CloseReason?) {
        state.withLock { state in (Self.take(&state), state.closing) }
    }

    /// Queues a frame once at most half the outbox is in use (for sync pages); false when closed.
    func pushWhenRoom(_ frame: Frame) async -> Bool {
        while true {
            let open = await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
                state.withLock { state in
                    if state.closing != nil {
                        continuation.resume(returning: false)
                    } else if state.frames.count < maxFrames / 2 && state.bytes < maxBytes / 2 {
                        continuation.resume(returning: true)
                    } else {
                        state.spaceWaiters.append(continuation)
                    }
                }
            }
            guard open else { return false }
            if push(frame) { return true }
        }
    }

    /// Everything waiting, once there is something; empty when the outbox is closed and drained.
    public func next() async -> [Frame] {
        await withCheckedContinuation { (continuation: CheckedContinuation<[Frame], Never>) in
            state.withLock { state in
                if !state.frames.isEmpty || state.closing != nil {
                    continuation.resume(returning: Self.take(&state))
                } else {
                    state.reader = continuation
                }
            }
        }
    }

    /// Why the outbox was closed, once it was.
    public var closeReason: CloseReason? { state.withLock { $0.closing } }

    /// Closes the outbox: frames already queued are still handed out, then `next()` returns empty.
    /// The first reason wins.
    public func close(_ reason: CloseReason) {
        let wake: (@Sendable () -> Void)? = state.withLock { state in
            if state.closing == nil { state.closing = reason }
            if let reader = state.reader {
                state.reader = nil
                reader.resume(returning: Self.take(&state))
            }
            for waiter in state.spaceWaiters { waiter.resume(returning: false) }
            state.spaceWaiters = []
            return state.wake
        }
        wake?()
    }

    /// Takes every queued frame and wakes the producers waiting for room.
    private static func take(_ state: inout State) -> [Frame] {
        let frames = state.frames
        state.frames = []
        state.bytes = 0
        for waiter in state.spaceWaiters { waiter.resume(returning: true) }
        state.spaceWaiters = []
        return frames
    }
}

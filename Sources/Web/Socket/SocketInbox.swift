import Services
import Synchronization

/// The client's messages on their way to its ``RelaySession``, one at a time and in order.
///
/// Most frames are handled at once on the event loop that read them. A frame that waits on the
/// database (a `sync`, say) is finished by a task, and frames that arrive meanwhile queue here
/// behind it; the task works through them and ends when the queue is empty. An idle socket has
/// no task. When the queue reaches ``readAheadLimit`` the socket stops reading until the task
/// has brought it down to ``resumeAt``, so a client cannot make the server buffer without limit.
final class SocketInbox: Sendable {
    enum Item: Sendable {
        case text(String)
        case binary
        /// The `?after=` of the socket URL: replay what the device missed, before any frame.
        case sync(after: Int64)
    }

    /// Queued messages at which the socket stops reading.
    static let readAheadLimit = 16
    /// Queued messages at which it reads again.
    static let resumeAt = 4

    private struct State {
        var queue: [Item] = []
        /// Whether a message is being handled (by the event loop, or by the task).
        var busy = false
        /// The socket has closed: once the queue is empty, the session ends.
        var ended = false
    }

    private let session: RelaySession
    private let state = Mutex(State())
    /// Called (from the task) when the queue has come down to ``resumeAt``.
    private let onRoom: @Sendable () -> Void
    /// Called once, after the socket has closed and its last message has been handled.
    private let onEnd: @Sendable () async -> Void

    init(
        session: RelaySession, onRoom: @escaping @Sendable () -> Void, onEnd: @escaping @Sendable () async -> Void
    ) {
        self.session = session
        self.onRoom = onRoom
        self.onEnd = onEnd
    }

    /// Messages waiting behind the one being handled.
    var queued: Int { state.withLock { $0.queue.count } }

    /// Takes one message: handles it now when nothing is ahead of it, else queues it. Returns how
    /// many messages are queued now.
    @discardableResult
    func receive(_ item: Item) -> Int {
        let queued: Int? = state.withLock { state in
            guard state.busy else {
                state.busy = true
                return nil
            }
            state.queue.append(item)
            return state.queue.count
        }
        if let queued { return queued }
        if let remainder = handle(item) {
            Task { await self.finish(remainder) }
        } else {
            state.withLock { $0.busy = false }
        }
        return 0
    }

    /// The socket has closed. The session ends after the messages still queued.
    func end() {
        let now = state.withLock { state in
            state.ended = true
            return !state.busy
        }
        if now { Task { await onEnd() } }
    }

    /// Handles one message as far as it can without waiting; returns the rest.
    private func handle(_ item: Item) -> RelaySession.Remainder? {
        switch item {
        case .text(let text): return session.receive(text: text)
        case .binary:
            session.receiveBinary()
            return nil
        case .sync(let after): return { [session] in await session.sync(after: after) }
        }
    }

    /// In the task: finishes a message, then handles the queue until it is empty.
    private func finish(_ remainder: RelaySession.Remainder) async {
        await remainder()
        while true {
            let (next, ended, room) = state.withLock { state -> (Item?, Bool, Bool) in
                guard !state.queue.isEmpty else {
                    state.busy = false
                    return (nil, state.ended, false)
                }
                return (state.queue.removeFirst(), false, state.queue.count == Self.resumeAt)
            }
            guard let next else {
                if ended { await onEnd() }
                return
            }
            if room { onRoom() }
            if let remainder = handle(next) { await remainder() }
        }
    }
}

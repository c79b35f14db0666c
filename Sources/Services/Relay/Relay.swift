import Foundation
import Logging
import Storage
import Synchronization

/// The message relay: the hub of live sockets, the group-commit writer, and the per-user send limit.
public final class Relay: Sendable {
    public let hub: RelayHub
    let writer: MessageWriter
    let database: AppDatabase
    let limits: HearthConfiguration.RelayLimits
    let clock: @Sendable () -> Date
    let logger: Logger
    private let sendBuckets = Mutex([Int64: TokenBucket]())

    init(
        database: AppDatabase, hub: RelayHub, writer: MessageWriter, limits: HearthConfiguration.RelayLimits,
        clock: @escaping @Sendable () -> Date, logger: Logger
    ) {
        self.database = database
        self.hub = hub
        self.writer = writer
        self.limits = limits
        self.clock = clock
        self.logger = logger
    }

    /// Opens a relay session for an authenticated device's new socket, or says why the socket
    /// is to be closed at once (the server shuts down, or too many sockets are open).
    public func open(_ session: Session) async -> Result<RelaySession, CloseRefusal> {
        await hub.connect(session).map { RelaySession(relay: self, connection: $0) }
    }

    /// Takes one `send` from the user's budget; false when they are over `messagesPerMinute`.
    func allowSend(userID: Int64) -> Bool {
        let now = clock()
        let rate = Double(limits.messagesPerMinute) / 60
        return sendBuckets.withLock { buckets in
            if buckets.count > 100_000 { buckets = buckets.filter { !$0.value.isFull(now: now) } }
            return buckets[
                userID, default: TokenBucket(capacity: Double(limits.messagesPerMinute), rate: rate, now: now)
            ]
            .take(now: now)
        }
    }
}

/// Why a new socket is closed as soon as it opens.
public struct CloseRefusal: Error, Sendable {
    public let reason: CloseReason
}

/// A token bucket: `capacity` tokens, refilled at `rate` per second.
struct TokenBucket: Sendable {
    let capacity: Double
    let rate: Double
    var tokens: Double
    var updated: Date

    init(capacity: Double, rate: Double, now: Date) {
        self.capacity = capacity
        self.rate = rate
        tokens = capacity
        updated = now
    }

    mutating func take(now: Date) -> Bool {
        tokens = min(capacity, tokens + now.timeIntervalSince(updated) * rate)
        updated = now
        guard tokens >= 1 else { return false }
        tokens -= 1
        return true
    }

    func isFull(now: Date) -> Bool {
        tokens + now.timeIntervalSince(updated) * rate >= capacity
    }
}

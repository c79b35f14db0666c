import Foundation
import Synchronization

/// How a throttle key backs off: `burst` free events, then waits doubling from `baseDelay` up to
/// `maxDelay`; a key quiet for `forgetAfter` after its last wait starts over.
public struct ThrottlePolicy: Sendable, Equatable {
    public var burst: Int
    public var baseDelay: TimeInterval
    public var maxDelay: TimeInterval
    public var forgetAfter: TimeInterval

    /// Creates a policy.
    public init(burst: Int, baseDelay: TimeInterval = 1, maxDelay: TimeInterval = 900, forgetAfter: TimeInterval = 900)
    {
        self.burst = burst
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
        self.forgetAfter = forgetAfter
    }
}

/// Counts events (failed sign-ins, registrations) per key and says how long a key must wait.
///
/// In memory, bounded in size: checked before any password hashing, so a flood costs a
/// dictionary lookup, not an Argon2 run. An attempt is counted *before* its hash
/// (``reserve(_:)``: check and count in one step), so attempts that arrive together cannot all
/// pass the check before any of them is counted; a sign-in that succeeds gives its count back
/// (``release(_:policy:)``).
public final class Throttle: Sendable {
    private struct Entry {
        var events: Int
        var blockedUntil: Date
        var last: Date
    }

    /// Keys kept at most; past this, forgotten keys are pruned, and if that is not enough, all are.
    public let capacity: Int
    private let now: @Sendable () -> Date
    private let entries = Mutex<[String: Entry]>([:])

    /// Creates an empty throttle reading time from `now`.
    public init(capacity: Int = 100_000, now: @escaping @Sendable () -> Date = { Date() }) {
        self.capacity = capacity
        self.now = now
    }

    /// Counts one attempt against every key, unless one of them must wait: then nothing is
    /// counted and the longest wait (seconds) is returned. Check and count are one step.
    public func reserve(_ keys: [(key: String, policy: ThrottlePolicy)]) -> Int? {
        let now = now()
        return entries.withLock { entries in
            let waits = keys.compactMap { key, _ -> Int? in
                guard let entry = entries[key], entry.blockedUntil > now else { return nil }
                return max(1, Int(entry.blockedUntil.timeIntervalSince(now).rounded(.up)))
            }
            if let wait = waits.max() { return wait }
            for (key, policy) in keys { record(key, policy: policy, now: now, in: &entries) }
            return nil
        }
    }

    /// Gives back one attempt ``reserve(_:)`` counted for `key`, as when a sign-in succeeds: a key
    /// left under its free count no longer waits.
    public func release(_ key: String, policy: ThrottlePolicy) {
        entries.withLock { entries in
            guard var entry = entries[key] else { return }
            entry.events = max(0, entry.events - 1)
            if entry.events < policy.burst { entry.blockedUntil = .distantPast }
            entries[key] = entry
        }
    }

    /// Counts one event for `key` under `policy`: past the free count, the key waits.
    private func record(_ key: String, policy: ThrottlePolicy, now: Date, in entries: inout [String: Entry]) {
        var entry = entries[key] ?? Entry(events: 0, blockedUntil: .distantPast, last: now)
        if now.timeIntervalSince(max(entry.last, entry.blockedUntil)) > policy.forgetAfter {
            entry = Entry(events: 0, blockedUntil: .distantPast, last: now)
        }
        entry.events += 1
        entry.last = now
        if entry.events >= policy.burst {
            let exponent = Double(min(entry.events - policy.burst, 30))
            let delay = min(policy.maxDelay, policy.baseDelay * pow(2, exponent))
            entry.blockedUntil = now.addingTimeInterval(delay)
        }
        if entries[key] == nil && entries.count >= capacity {
            prune(&entries, now: now, forgetAfter: policy.forgetAfter)
        }
        entries[key] = entry
    }

    /// Forgets `key`, as after a successful sign-in.
    public func reset(_ key: String) {
        _ = entries.withLock { $0.removeValue(forKey: key) }
    }

    private func prune(_ entries: inout [String: Entry], now: Date, forgetAfter: TimeInterval) {
        entries = entries.filter { now.timeIntervalSince(max($0.value.last, $0.value.blockedUntil)) <= forgetAfter }
        if entries.count >= capacity { entries.removeAll() }
    }
}

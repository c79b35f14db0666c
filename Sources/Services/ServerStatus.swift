import Foundation
import Storage
import Synchronization

/// What the admin dashboard shows at a glance.
public struct ServerStatus: Sendable {
    public let users: Int
    public let disabledUsers: Int
    public let devicesSignedIn: Int
    public let devicesOnline: Int
    public let usersOnline: Int
    public let messagesLastDay: Int
    public let messagesLastWeek: Int
    public let openQueueItems: Int
    public let databaseBytes: Int64
    public let freeDiskBytes: Int64?
    public let lastGoodBackup: BackupRecord?
    public let lastBackupFailed: Bool
    /// Past this age (seconds) the last good backup is shown as a warning.
    public let backupWarningAge: TimeInterval
    public let version: String
    public let startedAt: Date
    public let now: Date

    /// The last good backup's age in seconds, nil when there is none.
    public var backupAge: TimeInterval? {
        lastGoodBackup.map { now.timeIntervalSince1970 - Double($0.startedAt) / 1000 }
    }

    /// Whether the dashboard should warn about backups: none yet, too old, or the last run failed.
    public var backupNeedsAttention: Bool {
        guard let age = backupAge else { return true }
        return age > backupWarningAge || lastBackupFailed
    }
}

/// The dashboard's expensive counts, kept for a short while.
final class StatusCache: Sendable {
    struct Counts: Sendable {
        let users: (all: Int, disabled: Int)
        let messagesLastDay: Int
        let messagesLastWeek: Int
    }

    /// How long the counts are reused, in seconds.
    static let lifetime: TimeInterval = 30

    private let state = Mutex<(Date, Counts)?>(nil)

    func counts(at now: Date) -> Counts? {
        state.withLock { state in
            guard let (time, counts) = state, now.timeIntervalSince(time) < Self.lifetime, now >= time else {
                return nil
            }
            return counts
        }
    }

    func store(_ counts: Counts, at now: Date) {
        state.withLock { $0 = (now, counts) }
    }
}

extension AppServices {
    /// This build's version.
    public static let version = "0.3.0"

    /// The dashboard's figures. The counts that read many rows (people, messages in a day and a
    /// week: a few milliseconds on a million messages) are kept for ``StatusCache/lifetime``; the
    /// rest is read each time.
    public func status() async throws -> ServerStatus {
        let now = clock()
        let millis = now.epochMilliseconds
        let cached = statusCache.counts(at: now)
        let (counts, signedIn, queue, lastGood, lastRun) = try await run {
            try await database.read { store in
                let counts =
                    try cached
                    ?? StatusCache.Counts(
                        users: try store.userCounts(),
                        messagesLastDay: try store.messageCount(since: millis - 86_400_000),
                        messagesLastWeek: try store.messageCount(since: millis - 7 * 86_400_000))
                return (
                    counts, try store.activeDeviceCount(), try store.openReviewItemCount(), try store.lastGoodBackup(),
                    try store.backups(before: nil, limit: 1).first
                )
            }
        }
        if cached == nil { statusCache.store(counts, at: now) }
        let (day, week) = (counts.messagesLastDay, counts.messagesLastWeek)
        let online = live.onlineCounts()
        return ServerStatus(
            users: counts.users.all, disabledUsers: counts.users.disabled, devicesSignedIn: signedIn,
            devicesOnline: online.devices,
            usersOnline: online.users, messagesLastDay: day, messagesLastWeek: week, openQueueItems: queue,
            databaseBytes: databaseBytes(), freeDiskBytes: freeDiskBytes(), lastGoodBackup: lastGood,
            lastBackupFailed: lastRun?.error != nil, backupWarningAge: configuration.backupWarningAge,
            version: Self.version, startedAt: startedAt, now: now)
    }

    /// The database file and its WAL, in bytes.
    func databaseBytes() -> Int64 {
        let file = configuration.dataDirectory.appending(path: AppDatabase.fileName)
        return ["", "-wal"].reduce(0) { total, suffix in
            let size = (try? FileManager.default.attributesOfItem(atPath: file.path + suffix)[.size] as? Int64) ?? nil
            return total + (size ?? 0)
        }
    }

    /// Free bytes on the data dir's file system.
    func freeDiskBytes() -> Int64? {
        var stats = statvfs()
        guard statvfs(configuration.dataDirectory.path, &stats) == 0 else { return nil }
        return Int64(stats.f_bavail) * Int64(stats.f_frsize)
    }
}

/// The levels `/metrics` reads at each scrape besides the dashboard's figures.
public struct MetricLevels: Sendable {
    public let hashQueue: Int
    public let attachmentBytes: Int64
    public let pushQueue: Int
    public let webhookQueue: Int
}

extension AppServices {
    /// Hashes waiting, attachment bytes stored, pushes and webhook deliveries queued, now.
    public func metricLevels() async throws -> MetricLevels {
        let (bytes, pushes, deliveries) = try await run {
            try await database.read { store in
                (try store.totalAttachmentBytes(), try store.pushQueueLength(), try store.pendingWebhookDeliveries())
            }
        }
        return MetricLevels(
            hashQueue: hasher.queueDepth, attachmentBytes: bytes, pushQueue: pushes, webhookQueue: deliveries)
    }
}

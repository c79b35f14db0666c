import Age
import Foundation
import Logging
import Storage

/// Encrypted backups (age v1) of the whole database, on demand and on a schedule, and restore.
public final class Backups: ContextualService {
    /// When and where scheduled backups go; stored as settings.
    public struct Schedule: Sendable, Equatable {
        /// Seconds between backups.
        public var interval: TimeInterval
        /// The folder backups are written to.
        public var directory: String
        /// How many scheduled backups to keep there (older ones are deleted after a success).
        public var keep: Int
        /// `age1…` recipients the backups are encrypted to.
        public var recipients: [String]

        /// Creates a schedule.
        public init(interval: TimeInterval, directory: String, keep: Int, recipients: [String]) {
            self.interval = interval
            self.directory = directory
            self.keep = keep
            self.recipients = recipients
        }
    }

    let dataDirectory: URL

    let context: ServiceContext

    init(context: ServiceContext, dataDirectory: URL) {
        self.context = context
        self.dataDirectory = dataDirectory
    }

    // MARK: Backup

    /// Writes an encrypted backup to `target`: a consistent online snapshot, encrypted while it is
    /// streamed into a temporary file next to the target, fsynced, then renamed into place. On any
    /// failure nothing is left at the target. The run is recorded either way.
    @discardableResult
    public func create(
        to target: URL, recipients: [AgeRecipient], kind: String = "manual", by actor: AuditActor = .cli
    ) async throws
        -> BackupRecord
    {
        let started = now
        let clock = ContinuousClock()
        let begin = clock.now
        let database = database
        let dataDirectory = dataDirectory
        let result: Result<Int64, ServiceError> = await Task.detached(priority: .utility) {
            Result {
                try Self.write(
                    database: database, dataDirectory: dataDirectory, to: target, recipients: recipients, now: started)
            }
            .mapError { error in
                if let error = error as? ServiceError { return error }
                return .backupFailed(String(describing: error))
            }
        }.value
        let elapsed = clock.now - begin
        let duration = elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000
        var record = BackupRecord(
            id: 0, kind: kind, startedAt: started, durationMS: duration, target: target.path, size: nil, error: nil)
        switch result {
        case .success(let size): record.size = size
        case .failure(let error): record.error = error.message
        }
        let saved = record
        (saved.error == nil ? metrics.backupsOK : metrics.backupsFailed).increment()
        try? await database.write { store in
            try store.recordBackup(
                kind: saved.kind, startedAt: saved.startedAt, durationMS: saved.durationMS, target: saved.target,
                size: saved.size, error: saved.error)
            try store.audit(
                actor, saved.error == nil ? "backup_created" : "backup_failed", target: saved.target,
                detail: saved.error ?? "\(saved.kind), \(saved.size ?? 0) bytes", now: saved.startedAt)
        }
        switch result {
        case .success(let size):
            logger.notice(
                "backup written", metadata: ["target": "\(target.path)", "bytes": "\(size)", "ms": "\(duration)"])
            return record
        case .failure(let error):
            logger.error("backup failed", metadata: ["target": "\(target.path)", "error": "\(error.message)"])
            throw error
        }
    }

    /// Bytes written between fsyncs of a backup file.
    static let syncEvery = 4 * 1024 * 1024

    /// The blocking part of a backup; returns the size written.
    static func write(
        database: AppDatabase, dataDirectory: URL, to target: URL, recipients: [AgeRecipient], now: Int64
    ) throws
        -> Int64
    {
        guard !recipients.isEmpty else {
            throw ServiceError.backupFailed("no recipients: pass --recipient or --passphrase-file, or configure them")
        }
        let directory = target.deletingLastPathComponent()
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDirectory), isDirectory.boolValue
        else { throw ServiceError.backupFailed("the folder \(directory.path) does not exist") }
        guard FileManager.default.isWritableFile(atPath: directory.path) else {
            throw ServiceError.backupFailed("the folder \(directory.path) is not writable")
        }
        let fileManager = FileManager.default
        let snapshot = dataDirectory.appending(path: ".backup-\(UUID().uuidString).sqlite")
        let partial = directory.appending(path: ".\(target.lastPathComponent).partial-\(UUID().uuidString)")
        defer {
            try? fileManager.removeItem(at: snapshot)
            try? fileManager.removeItem(at: partial)
        }
        try database.snapshot(to: snapshot, madeAt: now)
        guard fileManager.createFile(atPath: partial.path, contents: nil, attributes: [.posixPermissions: 0o600]),
            let output = try? FileHandle(forWritingTo: partial), let input = try? FileHandle(forReadingFrom: snapshot)
        else { throw ServiceError.backupFailed("cannot create a file in \(directory.path)") }
        defer {
            try? input.close()
            try? output.close()
        }
        do {
            // Flush every few MiB rather than all at the end: one huge final fsync would stall
            // the server's own commits (each message ack waits for an fsync) for seconds.
            var unsynced = 0
            try Age.encrypt(FileInput(input), to: recipients) { bytes in
                try output.write(contentsOf: bytes)
                unsynced += bytes.count
                if unsynced >= Self.syncEvery {
                    try output.synchronize()
                    unsynced = 0
                }
            }
            try output.synchronize()
        } catch {
            throw ServiceError.backupFailed("cannot write \(target.path): \(Self.reason(error))")
        }
        guard rename(partial.path, target.path) == 0 else {
            throw ServiceError.backupFailed("cannot rename the backup into \(target.path)")
        }
        syncDirectory(directory)
        let size = (try? fileManager.attributesOfItem(atPath: target.path)[.size] as? Int64) ?? nil
        return size ?? 0
    }

    /// The recorded backup runs, newest first.
    public func history(limit: Int = 20) async throws -> [BackupRecord] {
        try await run { try await database.read { try $0.backups(limit: limit) } }
    }

    /// Backup runs, newest first, `limit` at a time before the id `before` (the admin panel's pages).
    public func history(before: Int64?, limit: Int) async throws -> [BackupRecord] {
        try await run { try await database.read { try $0.backups(before: before, limit: limit) } }
    }

    // MARK: Settings and schedule

    static let recipientsKey = "backup_recipients"
    static let intervalKey = "backup_interval_seconds"
    static let directoryKey = "backup_directory"
    static let keepKey = "backup_keep"

    /// The `age1…` recipients configured for backups (used when a backup names none).
    public func configuredRecipients() async throws -> [String] {
        try await run { try await database.read { try $0.setting(Self.recipientsKey) } }?
            .split(separator: ",").map(String.init) ?? []
    }

    /// The backup schedule, if one is set.
    public func schedule() async throws -> Schedule? {
        try await run {
            try await database.read { store -> Schedule? in
                guard let interval = try store.setting(Self.intervalKey).flatMap(TimeInterval.init), interval > 0,
                    let directory = try store.setting(Self.directoryKey)
                else { return nil }
                let keep = try store.setting(Self.keepKey).flatMap(Int.init) ?? 7
                let recipients = try store.setting(Self.recipientsKey)?.split(separator: ",").map(String.init) ?? []
                return Schedule(interval: interval, directory: directory, keep: keep, recipients: recipients)
            }
        }
    }

    /// Adds a backup key (an `age1…` recipient) to those backups are encrypted for: the schedule's,
    /// or, before there is a schedule, the ones it will start with.
    public func addRecipient(_ recipient: String, by actor: AuditActor) async throws {
        guard (try? X25519Recipient(recipient)) != nil else {
            throw ServiceError.invalidField("'\(recipient)' is not an age1… recipient")
        }
        let now = self.now
        try await run {
            try await database.write { store in
                var recipients = try store.setting(Self.recipientsKey)?.split(separator: ",").map(String.init) ?? []
                guard !recipients.contains(recipient) else { return }
                recipients.append(recipient)
                try store.setSetting(Self.recipientsKey, to: recipients.joined(separator: ","))
                try store.audit(actor, "backup_key_added", target: recipient, now: now)
            }
        }
    }

    /// Sets (or, with nil, turns off) the schedule. Checks the folder and the recipients first;
    /// with `createFolder`, makes the folder (and its parents) when it does not exist yet.
    public func setSchedule(_ schedule: Schedule?, createFolder: Bool = false, by actor: AuditActor = .cli) async throws
    {
        if let schedule, createFolder, !schedule.directory.isEmpty,
            !FileManager.default.fileExists(atPath: schedule.directory)
        {
            do {
                try FileManager.default.createDirectory(
                    atPath: schedule.directory, withIntermediateDirectories: true,
                    attributes: [.posixPermissions: 0o700])
            } catch {
                throw ServiceError.invalidField(
                    "\(schedule.directory) could not be made: \(error.localizedDescription)")
            }
        }
        if let schedule {
            guard schedule.interval >= 600 else {
                throw ServiceError.invalidField("backups run at most every 10 minutes")
            }
            guard (1...1000).contains(schedule.keep) else { throw ServiceError.invalidField("keep 1 to 1000 backups") }
            guard !schedule.recipients.isEmpty else {
                throw ServiceError.invalidField("scheduled backups need at least one --recipient age1…")
            }
            for recipient in schedule.recipients {
                do {
                    _ = try X25519Recipient(recipient)
                } catch {
                    throw ServiceError.invalidField("'\(recipient)' is not an age1… recipient")
                }
            }
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: schedule.directory, isDirectory: &isDirectory),
                isDirectory.boolValue, FileManager.default.isWritableFile(atPath: schedule.directory)
            else { throw ServiceError.invalidField("\(schedule.directory) is not a writable folder") }
        }
        let now = self.now
        try await run {
            try await database.write { store in
                if let schedule {
                    try store.setSetting(Self.intervalKey, to: String(Int(schedule.interval)))
                    try store.setSetting(Self.directoryKey, to: schedule.directory)
                    try store.setSetting(Self.keepKey, to: String(schedule.keep))
                    try store.setSetting(Self.recipientsKey, to: schedule.recipients.joined(separator: ","))
                } else {
                    try store.setSetting(Self.intervalKey, to: "0")
                }
                try store.audit(
                    actor, "setting_changed", target: "backup schedule",
                    detail: schedule.map {
                        "every \(Words.every(seconds: Int($0.interval))) into \($0.directory), keeping the newest \($0.keep)"
                    }
                        ?? "off", now: now)
            }
        }
    }

    /// Runs a scheduled backup when one is due; returns how long to wait before asking again.
    public func runScheduledIfDue() async -> TimeInterval {
        guard let schedule = try? await schedule() else { return 60 }
        let last = (try? await history(limit: 50))?.first { $0.kind == "scheduled" }
        let now = clock()
        if let last {
            let next = Date(timeIntervalSince1970: Double(last.startedAt) / 1000 + schedule.interval)
            if next > now { return min(60, next.timeIntervalSince(now)) }
        }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd-HHmmss"
        let directory = URL(fileURLWithPath: schedule.directory)
        let target = directory.appending(path: "hearth-\(formatter.string(from: now)).age")
        let recipients = schedule.recipients.compactMap { try? X25519Recipient($0) }.map { AgeRecipient.x25519($0) }
        if (try? await create(to: target, recipients: recipients, kind: "scheduled", by: .server)) != nil {
            prune(directory, keep: schedule.keep)
        }
        return 60
    }

    /// Deletes all but the newest `keep` scheduled backups (`hearth-*.age`) in a folder.
    func prune(_ directory: URL, keep: Int) {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? [])
            .filter { $0.hasPrefix("hearth-") && $0.hasSuffix(".age") }.sorted()
        for name in names.dropLast(keep) {
            try? FileManager.default.removeItem(at: directory.appending(path: name))
            logger.info("old backup removed", metadata: ["file": "\(name)"])
        }
    }

    // MARK: Restore

    /// What a restore did.
    public struct Restored: Sendable {
        /// What the backup held.
        public let summary: AppDatabase.Summary
        /// Where the database that was replaced now is, if there was one.
        public let previous: URL?
        /// The migrations the restored database has now.
        public let migrations: [String]
    }

    /// Replaces the data dir's database with the one in an encrypted backup.
    ///
    /// The caller holds the data dir's `lock` (taken before anything opens its database, as
    /// `serve` takes it, so neither runs under the other). Decrypts to a temporary file, checks it is an
    /// intact Hearth database with a schema this binary knows, hands its summary to `confirm`
    /// (which throws to stop: age does not say who made a file, so whoever restores should see
    /// what it holds first), and only then swaps it in, keeping the old file as
    /// `hearth.sqlite.pre-restore-<time>`; then migrates it if it is older. On any failure or
    /// refusal the data dir is as it was.
    public static func restore(
        from file: URL, identities: [AgeIdentity], into lock: DataDirectoryLock, now: Date = Date(),
        confirm: (AppDatabase.Summary) throws -> Void = { _ in }
    ) throws -> Restored {
        let dataDirectory = lock.directory
        let fileManager = FileManager.default
        let temporary = dataDirectory.appending(path: ".restore-\(UUID().uuidString).sqlite")
        defer {
            // The checks below open the file, and SQLite gives it `-wal` and `-shm` side files.
            for suffix in ["", "-wal", "-shm"] { try? fileManager.removeItem(atPath: temporary.path + suffix) }
        }
        guard let input = try? FileHandle(forReadingFrom: file) else {
            throw ServiceError.restoreFailed("cannot read \(file.path)")
        }
        defer { try? input.close() }
        guard fileManager.createFile(atPath: temporary.path, contents: nil, attributes: [.posixPermissions: 0o600]),
            let output = try? FileHandle(forWritingTo: temporary)
        else { throw ServiceError.restoreFailed("cannot write in \(dataDirectory.path)") }
        do {
            defer { try? output.close() }
            try Age.decrypt(FileInput(input), identities: identities) { bytes in try output.write(contentsOf: bytes) }
            try output.synchronize()
        } catch {
            throw ServiceError.restoreFailed(reason(error))
        }
        let summary: AppDatabase.Summary
        do {
            summary = try AppDatabase.verifyHearthDatabase(at: temporary)
        } catch {
            throw ServiceError.restoreFailed("the backup holds \(reason(error))")
        }
        try confirm(summary)
        // Everything in the file itself, and its side files gone, before it takes the real name.
        AppDatabase.checkpointFile(at: temporary)
        let current = dataDirectory.appending(path: AppDatabase.fileName)
        var previous: URL?
        if fileManager.fileExists(atPath: current.path) {
            AppDatabase.checkpointFile(at: current)
            let stamp = ISO8601DateFormatter().string(from: now).replacingOccurrences(of: ":", with: "")
            let kept = dataDirectory.appending(path: "\(AppDatabase.fileName).pre-restore-\(stamp)")
            guard rename(current.path, kept.path) == 0 else {
                throw ServiceError.restoreFailed("cannot move the current database aside")
            }
            for suffix in ["-wal", "-shm"] where fileManager.fileExists(atPath: current.path + suffix) {
                _ = rename(current.path + suffix, kept.path + suffix)
            }
            previous = kept
        }
        guard rename(temporary.path, current.path) == 0 else {
            if let previous { _ = rename(previous.path, current.path) }
            throw ServiceError.restoreFailed("cannot move the restored database into place")
        }
        syncDirectory(dataDirectory)
        do {
            let restored = try AppDatabase(url: current)
            let migrations = try restored.appliedMigrations()
            try restored.writeNow { store in
                try store.audit(
                    .cli, "backup_restored", target: file.path,
                    detail: previous.map { "previous database kept as \($0.lastPathComponent)" },
                    now: now.epochMilliseconds)
            }
            try restored.close()
            return Restored(summary: summary, previous: previous, migrations: migrations)
        } catch {
            throw ServiceError.restoreFailed("the restored database does not open: \(reason(error))")
        }
    }

    static func reason(_ error: any Error) -> String {
        switch error {
        case let error as AgeError: error.description
        case let error as StorageError: error.description
        case let error as ServiceError: error.message
        default: (error as NSError).localizedDescription
        }
    }

    static func syncDirectory(_ directory: URL) {
        let descriptor = open(directory.path, O_RDONLY)
        guard descriptor >= 0 else { return }
        fsync(descriptor)
        close(descriptor)
    }
}

import Age
import Crypto
import Foundation
import HearthTestSupport
import Services
import Storage
import Testing

@Suite struct BackupTests {
    let identity = X25519Identity.generate()

    /// Fills a fresh data dir: two users, a room, `count` messages.
    func populated(messages count: Int = 20) async throws -> TestServices {
        let env = try TestServices()
        let mum = try await env.accounts.createUser(username: "mum", password: TestServices.password, role: .admin)
        _ = try await env.accounts.createUser(username: "kid", password: TestServices.password, role: .member)
        let room = try await env.services.rooms.create(by: mum, name: nil, usernames: ["kid"], direct: true).0.room
        _ = try await env.sessions.login(
            username: "mum", password: TestServices.password, deviceName: "laptop", client: TestServices.home)
        try await insertMessages(env, room: room.id, from: 0, count: count)
        return env
    }

    func insertMessages(_ env: TestServices, room: Int64, from start: Int, count: Int) async throws {
        try await env.services.database.write { store in
            var seq = try store.lastSeq()
            for index in start..<(start + count) {
                seq += 1
                _ = try store.insertMessage(
                    seq: seq, roomID: room, senderID: 1, deviceID: 1, clientID: "m\(index)", body: "message \(index)",
                    now: Int64(index))
            }
        }
    }

    func tempFolder() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appending(path: "hearth-backups-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    func digest(_ url: URL) throws -> String {
        SHA256.hash(data: try Data(contentsOf: url)).map { String(format: "%02x", $0) }.joined()
    }

    @Test func aBackupRestoresEverythingOnANewMachine() async throws {
        let env = try await populated()
        defer { env.remove() }
        let folder = try tempFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        // A photo shared in the room goes into the backup with everything else.
        let photo = Array("GIF89a".utf8) + [UInt8](repeating: 7, count: 300_000)
        let stream = AsyncStream<[UInt8]> { continuation in
            continuation.yield(Array(photo.prefix(100_000)))
            continuation.yield(Array(photo.dropFirst(100_000)))
            continuation.finish()
        }
        let mum = try await env.accounts.user(named: "mum")
        let uploaded = try await env.services.attachments.upload(
            owner: mum, contentType: "image/gif", filename: "cat.gif", declaredLength: nil, body: stream)
        // And the moderation rules, a reaction, an edit with its earlier text, and a group with
        // its admin and the line its rename wrote.
        _ = try await env.services.moderation.createRule(
            RuleDraft(kind: "word", pattern: "darn", action: "mask"), by: .cli)
        try await env.services.database.write { store in
            _ = try store.setReaction(messageID: 1, userID: 2, emoji: "👍", on: true, now: 100)
            try store.editMessage(id: 1, body: "message 0, edited", now: 101)
        }
        let family = try await env.services.rooms.create(by: mum, name: "Family", usernames: ["kid"], direct: false)
        _ = try await env.services.rooms.rename(family.0.room.id, to: "Home", by: mum)
        // And the Web Push key, so the phones' subscriptions still work after a restore.
        let pushKey = try await env.services.push.publicKey()
        let target = folder.appending(path: "hearth-2026-11-29.age")
        let record = try await env.services.backups.create(to: target, recipients: [.x25519(identity.recipient)])
        #expect(record.error == nil && (record.size ?? 0) > 0)
        // Only the finished file is there: no partial or plaintext leftovers.
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["hearth-2026-11-29.age"])
        #expect(
            try FileManager.default.contentsOfDirectory(atPath: env.directory.path)
                .allSatisfy { !$0.hasPrefix(".backup") })

        #expect(try await env.services.database.read { try $0.attachmentCount(ownerID: 1) } == 1)

        let newMachine = folder.appending(path: "new-data")
        let restored = try Backups.restore(
            from: target, identities: [.x25519(identity)], into: DataDirectoryLock(newMachine))
        #expect(restored.previous == nil)
        var configuration = HearthConfiguration(dataDirectory: newMachine)
        configuration.hashing.parameters = env.services.configuration.hashing.parameters
        let services = try AppServices(configuration: configuration)
        #expect(try await services.accounts.users().map(\.username) == ["kid", "mum"])
        let messages = try await services.database.read { try $0.history(roomID: 1, before: nil, limit: 100) }
        #expect(messages.count == 20)
        let first = try #require(messages.last)
        #expect(first.body == "message 0, edited" && first.editedAt == 101 && first.reactions == ["👍": ["kid"]])
        #expect(try await services.database.read { try $0.earlierTexts(messageID: 1) }.map(\.body) == ["message 0"])
        let group = try await services.rooms.info(family.0.room.id, for: try await services.accounts.user(named: "kid"))
        #expect(group.room.name == "Home" && group.members.map(\.admin) == [false, true])
        let line = try await services.rooms.history(
            family.0.room.id, for: try await services.accounts.user(named: "kid"), before: nil, limit: 10)
        #expect(line.map(\.body) == ["mum renamed the group to “Home”"] && line.first?.system == true)
        let restoredPhoto = try await services.attachments.open(
            uploaded.publicID, for: try await services.accounts.user(named: "mum"))
        var bytes: [UInt8] = []
        try await services.attachments.read(restoredPhoto) { bytes += $0 }
        #expect(bytes == photo)
        #expect(try await services.moderation.rules().map(\.pattern) == ["darn"])
        #expect(try await services.push.publicKey() == pushKey)
        #expect(services.moderation.test(body: "darn", roomID: 1, contentTypes: []).body == "***")
        // The restore itself is in the restored database's audit log.
        let audit = try await services.moderation.auditLog(AuditFilter(action: "backup_restored"))
        #expect(audit.first?.actor == "cli" && audit.first?.target == target.path)
        _ = try await services.sessions.login(
            username: "mum", password: TestServices.password, deviceName: nil, client: TestServices.home)
        let history = try await env.services.backups.history()
        #expect(history.first?.kind == "manual" && history.first?.error == nil)
    }

    @Test func aBackupWhileMessagesKeepArrivingIsConsistent() async throws {
        let env = try await populated(messages: 1)
        defer { env.remove() }
        let folder = try tempFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let writer = Task {
            var next = 1
            while !Task.isCancelled {
                try await insertMessages(env, room: 1, from: next, count: 10)
                next += 10
            }
        }
        var counts: [Int] = []
        for index in 0..<4 {
            let target = folder.appending(path: "b\(index).age")
            try await env.services.backups.create(to: target, recipients: [.x25519(identity.recipient)])
            let plain = folder.appending(path: "b\(index).sqlite")
            var bytes: [UInt8] = []
            try Age.decrypt(FileInput(try FileHandle(forReadingFrom: target)), identities: [.x25519(identity)]) {
                bytes += $0
            }
            try Data(bytes).write(to: plain)
            _ = try AppDatabase.verifyHearthDatabase(at: plain)
            let copy = try AppDatabase(url: plain)
            let (count, last) = try await copy.read { store in
                (try store.history(roomID: 1, before: nil, limit: 1_000_000).count, try store.lastSeq())
            }
            // A snapshot: every message up to the counter, none missing, none half-written.
            #expect(Int64(count) == last)
            counts.append(count)
        }
        writer.cancel()
        #expect(counts == counts.sorted())
    }

    @Test func badBackupsAreRefusedAndChangeNothing() async throws {
        let env = try await populated()
        defer { env.remove() }
        let folder = try tempFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let good = folder.appending(path: "good.age")
        try await env.services.backups.create(to: good, recipients: [.x25519(identity.recipient)])
        let restoreTarget = folder.appending(path: "live")
        _ = try Backups.restore(from: good, identities: [.x25519(identity)], into: DataDirectoryLock(restoreTarget))
        let database = restoreTarget.appending(path: "hearth.sqlite")
        AppDatabase.checkpointFile(at: database)
        let before = try digest(database)
        let filesBefore = try FileManager.default.contentsOfDirectory(atPath: restoreTarget.path).sorted()

        let original = [UInt8](try Data(contentsOf: good))
        var flipped = original
        flipped[original.count / 2] ^= 0x40
        var header = original
        header[20] ^= 0x01
        let text = try Age.encrypt(Array("not a database".utf8), to: [.x25519(identity.recipient)])
        let foreign = try Age.encrypt(try sqliteFile(in: folder), to: [.x25519(identity.recipient)])
        let scrypt = try Age.encrypt(Array("x".utf8), to: [.passphrase("secret", workFactor: 10)])
        let heavy = Array(String(decoding: scrypt, as: UTF8.self).replacingOccurrences(of: " 10\n", with: " 23\n").utf8)
        let cases: [(String, [UInt8], [AgeIdentity])] = [
            ("wrong identity", original, [.x25519(.generate())]),
            ("wrong passphrase", scrypt, [.passphrase("guess")]),
            ("truncated", Array(original.prefix(original.count - 100)), [.x25519(identity)]),
            ("flipped payload byte", flipped, [.x25519(identity)]),
            ("flipped header byte", header, [.x25519(identity)]),
            ("not age", Array("SQLite format 3\u{0}".utf8), [.x25519(identity)]),
            ("text inside", text, [.x25519(identity)]),
            ("another SQLite database", foreign, [.x25519(identity)]),
            ("work factor 23", heavy, [.passphrase("secret")]),
        ]
        for (name, bytes, identities) in cases {
            let file = folder.appending(path: "\(name).age")
            try Data(bytes).write(to: file)
            #expect(throws: ServiceError.self, "\(name)") {
                try Backups.restore(from: file, identities: identities, into: DataDirectoryLock(restoreTarget))
            }
        }
        #expect(try digest(database) == before)
        #expect(try FileManager.default.contentsOfDirectory(atPath: restoreTarget.path).sorted() == filesBefore)

        // Refused while something holds the data dir (as `serve` does): its lock cannot be taken.
        let lock = try DataDirectoryLock(restoreTarget)
        #expect(throws: StorageError.self) { try DataDirectoryLock(restoreTarget) }
        withExtendedLifetime(lock) {}
    }

    /// A valid SQLite file that is not a Hearth database.
    func sqliteFile(in folder: URL) throws -> [UInt8] {
        let path = folder.appending(path: "other.sqlite").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "python3", "-c",
            "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute('create table t(x)'); c.commit()",
            path,
        ]
        try process.run()
        process.waitUntilExit()
        return [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
    }

    @Test func aTargetFolderThatCannotBeWrittenFailsCleanly() async throws {
        let env = try await populated()
        defer { env.remove() }
        let missing = URL(fileURLWithPath: "/nonexistent-\(UUID().uuidString)/backup.age")
        await #expect(throws: ServiceError.self) {
            try await env.services.backups.create(to: missing, recipients: [.x25519(identity.recipient)])
        }
        await #expect(throws: ServiceError.self) {
            try await env.services.backups.create(
                to: URL(fileURLWithPath: "/proc/backup.age"), recipients: [.x25519(identity.recipient)])
        }
        let failures = try await env.services.backups.history()
        #expect(failures.count == 2 && failures.allSatisfy { $0.error != nil })
    }

    /// A backup to a full disk fails cleanly: an error, no partial file, a recorded failure.
    /// Needs root to mount a tiny tmpfs (CI runs as root).
    @Test(.enabled(if: getuid() == 0)) func aFullDiskFailsCleanly() async throws {
        let env = try await populated(messages: 500)
        defer { env.remove() }
        let mountPoint = try tempFolder()
        defer { try? FileManager.default.removeItem(at: mountPoint) }
        try #require(shell("mount -t tmpfs -o size=64k tmpfs '\(mountPoint.path)'") == 0)
        defer { _ = shell("umount '\(mountPoint.path)'") }
        await #expect(throws: ServiceError.self) {
            try await env.services.backups.create(
                to: mountPoint.appending(path: "backup.age"), recipients: [.x25519(identity.recipient)])
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: mountPoint.path).isEmpty)
        let failure = try #require(try await env.services.backups.history().first)
        #expect(failure.error?.contains("cannot write") == true)
    }

    @Test func scheduledBackupsRunWhenDueAndKeepTheLastN() async throws {
        let env = try await populated()
        defer { env.remove() }
        let folder = try tempFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        await #expect(throws: ServiceError.self) {
            try await env.services.backups.setSchedule(
                .init(interval: 86_400, directory: folder.path, keep: 2, recipients: []))
        }
        try await env.services.backups.setSchedule(
            .init(interval: 86_400, directory: folder.path, keep: 2, recipients: [identity.recipient.string]))
        for _ in 0..<3 {
            _ = await env.services.backups.runScheduledIfDue()
            // Not due again until a day has passed.
            _ = await env.services.backups.runScheduledIfDue()
            env.clock.advance(86_401)
        }
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
        #expect(files.count == 2 && files.allSatisfy { $0.hasPrefix("hearth-") && $0.hasSuffix(".age") })
        let runs = try await env.services.backups.history()
        #expect(runs.filter { $0.kind == "scheduled" && $0.error == nil }.count == 3)
        try await env.services.backups.setSchedule(nil)
        #expect(try await env.services.backups.schedule() == nil)
    }
}

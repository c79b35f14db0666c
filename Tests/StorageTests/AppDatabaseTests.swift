import Crypto
import Foundation
import GRDB
import Testing

@testable import Storage

@Suite struct AppDatabaseTests {
    let directory = FileManager.default.temporaryDirectory.appending(path: "hearth-storage-\(UUID().uuidString)")

    @Test func createsTheDataDirOwnerOnlyAndMigratesAnEmptyDatabase() throws {
        defer { try? FileManager.default.removeItem(at: directory) }
        let database = try AppDatabase.open(dataDirectory: directory.appending(path: "nested/data"))
        let dataDir = directory.appending(path: "nested/data")
        let attributes = try FileManager.default.attributesOfItem(atPath: dataDir.path)
        #expect((attributes[.posixPermissions] as? Int) == 0o700)
        let fileAttributes = try FileManager.default.attributesOfItem(atPath: database.url.path)
        #expect((fileAttributes[.posixPermissions] as? Int) == 0o600)
        #expect(database.url.lastPathComponent == "hearth.sqlite")
        #expect(try database.appliedMigrations() == Migrations.all().map(\.identifier))
        #expect(try database.appliedMigrations().first == "0001_initial")
    }

    @Test func inviteCodesStoredInPlainTextBecomeTheirHashes() async throws {
        defer { try? FileManager.default.removeItem(at: directory) }
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let url = directory.appending(path: AppDatabase.fileName)
        // A database as the version before 0011 left it, with an invite in plain text.
        var migrator = DatabaseMigrator()
        for file in try Migrations.all() {
            migrator.registerMigration(file.identifier) { try $0.execute(sql: file.sql) }
        }
        let old = try DatabaseQueue(path: url.path)
        try migrator.migrate(old, upTo: "0010_rule_disabled")
        let code = "abcdefghijklmnopqrstuvwxyz"
        try await old.write { db in
            try db.execute(
                sql:
                    "INSERT INTO invites (code, max_uses, uses, admin, expires_at, created_at) VALUES (?, 2, 1, 0, 9, 1)",
                arguments: [code])
        }
        try old.close()
        let database = try AppDatabase.open(dataDirectory: directory)
        let digest = Data(SHA256.hash(data: Data(code.utf8)))
        let invite = try #require(try await database.read { try $0.invite(codeHash: digest) })
        #expect(invite.maxUses == 2 && invite.uses == 1 && invite.expiresAt == 9)
        let columns = try await database.read { store in
            try Row.fetchAll(store.db, sql: "PRAGMA table_info(invites)").map { $0["name"] as String }
        }
        #expect(!columns.contains("code"))
    }

    @Test func reopeningAppliesNothingTwiceAndKeepsTheData() async throws {
        defer { try? FileManager.default.removeItem(at: directory) }
        let first = try AppDatabase.open(dataDirectory: directory)
        try await first.write { try $0.setSetting("k", to: "v") }
        let second = try AppDatabase.open(dataDirectory: directory)
        #expect(try second.appliedMigrations() == Migrations.all().map(\.identifier))
        #expect(try await second.read { try $0.setting("k") } == "v")
    }

    @Test func runsInWALWithFullSyncForeignKeysACheckpointBackstopAndAKeptWALSize() throws {
        defer { try? FileManager.default.removeItem(at: directory) }
        let database = try AppDatabase.open(dataDirectory: directory)
        let (journal, readerSync, foreignKeys) = try database.pool.read { db in
            (
                try String.fetchOne(db, sql: "PRAGMA journal_mode"), try Int.fetchOne(db, sql: "PRAGMA synchronous"),
                try Int.fetchOne(db, sql: "PRAGMA foreign_keys")
            )
        }
        let (writerSync, backstop, kept) = try database.pool.write { db in
            (
                try Int.fetchOne(db, sql: "PRAGMA synchronous"), try Int.fetchOne(db, sql: "PRAGMA wal_autocheckpoint"),
                try Int.fetchOne(db, sql: "PRAGMA journal_size_limit")
            )
        }
        #expect(journal == "wal")
        #expect(readerSync == 2 && writerSync == 2)  // FULL
        #expect(backstop == AppDatabase.walBackstopPages)
        #expect(kept == AppDatabase.walKeptBytes)
        #expect(foreignKeys == 1)
    }

    @Test func refusesADatabaseFromANewerSchema() throws {
        defer { try? FileManager.default.removeItem(at: directory) }
        let database = try AppDatabase.open(dataDirectory: directory)
        try database.pool.write { db in
            try db.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES ('9999_from_the_future')")
        }
        #expect(throws: StorageError.newerSchema(unknown: ["9999_from_the_future"])) {
            try AppDatabase.open(dataDirectory: directory)
        }
        let message = StorageError.newerSchema(unknown: ["9999_from_the_future"]).description
        #expect(message.contains("newer version of Hearth"))
    }

    @Test func refusesADataDirThatIsAFile() throws {
        defer { try? FileManager.default.removeItem(at: directory) }
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let file = directory.appending(path: "not-a-dir")
        try Data("x".utf8).write(to: file)
        #expect(throws: StorageError.self) { try AppDatabase.open(dataDirectory: file) }
    }

    @Test func aFailedTransactionWritesNothing() async throws {
        defer { try? FileManager.default.removeItem(at: directory) }
        let database = try AppDatabase.open(dataDirectory: directory)
        struct Boom: Error {}
        await #expect(throws: Boom.self) {
            try await database.write { store in
                try store.setSetting("half", to: "done")
                throw Boom()
            }
        }
        #expect(try await database.read { try $0.setting("half") } == nil)
    }

    @Test func aTakenUsernameIsAConstraintErrorWhateverTheCase() async throws {
        defer { try? FileManager.default.removeItem(at: directory) }
        let database = try AppDatabase.open(dataDirectory: directory)
        try await database.write { store in
            _ = try store.insertUser(User(username: "mum", passwordHash: "x", role: .admin, createdAt: 1))
        }
        await #expect(throws: StorageError.self) {
            try await database.write { store in
                _ = try store.insertUser(User(username: "MUM", passwordHash: "y", role: .member, createdAt: 2))
            }
        }
        #expect(try await database.read { try $0.users().count } == 1)
    }

    @Test func migrationFilesMustBeNumberedAndUnique() throws {
        let sql = Data("SELECT 1;".utf8).base64EncodedString()
        #expect(throws: StorageError.self) { try Migrations.parse(["initial.sql": sql]) }
        #expect(throws: StorageError.self) { try Migrations.parse(["0001_a.sql": sql, "0001_b.sql": sql]) }
        #expect(throws: StorageError.self) { try Migrations.parse(["0001_a.txt": sql]) }
        let parsed = try Migrations.parse(["0002_b.sql": sql, "0001_a.sql": sql, "README.md": sql])
        #expect(parsed.map(\.identifier) == ["0001_a", "0002_b"])
    }
}

@Suite struct AttachmentStorageTests {
    @Test func deletingAMessageDeletesItsAttachments() async throws {
        let directory = FileManager.default.temporaryDirectory.appending(path: "hearth-storage-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let database = try AppDatabase.open(dataDirectory: directory)
        let count = try await database.write { store -> Int in
            let user = try store.insertUser(User(username: "mum", passwordHash: "x", role: .admin, createdAt: 1))
            let device = try store.insertDevice(
                userID: user.id, name: "laptop", userAgent: nil, ip: nil, tokenHash: Data([1]), now: 1)
            let room = try store.insertRoom(
                kind: .group, name: "Family", ownerID: user.id, directKey: nil, memberIDs: [user.id], now: 1)
            _ = try store.insertMessage(
                seq: 1, roomID: room.id, senderID: user.id, deviceID: device.id, clientID: "c", body: "photo", now: 1)
            let messageID = try #require(try store.messageID(deviceID: device.id, clientID: "c"))
            let attachment = try store.insertAttachment(
                publicID: "p", ownerID: user.id, contentType: "image/png", filename: nil, reservedBytes: 3, now: 1)
            try store.insertAttachmentChunk(attachmentID: attachment, index: 0, data: Data([1, 2, 3]))
            try store.attach(attachmentID: attachment, toMessage: messageID)
            try store.db.execute(sql: "DELETE FROM messages WHERE id = ?", arguments: [messageID])
            return try store.attachmentCount(ownerID: user.id)
        }
        #expect(count == 0)
        let chunks = try await database.pool.read {
            try Int.fetchOne($0, sql: "SELECT count(*) FROM attachment_chunks")
        }
        #expect(chunks == 0)
    }
}

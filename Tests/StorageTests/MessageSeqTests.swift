import Foundation
import GRDB
import Testing

@testable import Storage

/// `seq` orders every message on the server and clients sync from it: it only grows, and a seq
/// once handed out is never handed out again, whatever is deleted.
@Suite struct MessageSeqTests {
    let directory = FileManager.default.temporaryDirectory.appending(path: "hearth-seq-\(UUID().uuidString)")

    struct Fixture {
        let userID: Int64
        let deviceID: Int64
        let rooms: [Int64]
    }

    func makeFixture(_ store: Store) throws -> Fixture {
        let user = try store.insertUser(User(username: "mum", passwordHash: "x", role: .admin, createdAt: 1))
        let device = try store.insertDevice(
            userID: user.id, name: "laptop", userAgent: nil, ip: nil, tokenHash: Data([1]), now: 1)
        let rooms = try ["Family", "Cousins"].map {
            try store.insertRoom(kind: .group, name: $0, ownerID: user.id, directKey: nil, memberIDs: [user.id], now: 1)
                .id
        }
        return Fixture(userID: user.id, deviceID: device.id, rooms: rooms)
    }

    /// Stores the next message in `room` the way the relay's writer does.
    func send(_ store: Store, _ fixture: Fixture, room: Int64, id: String) throws -> Int64 {
        let seq = try store.lastSeq() + 1
        _ = try store.insertMessage(
            seq: seq, roomID: room, senderID: fixture.userID, deviceID: fixture.deviceID, clientID: id, body: id,
            now: 1)
        return seq
    }

    func counter(_ store: Store) throws -> Int64? {
        try Int64.fetchOne(store.db, sql: "SELECT value FROM counters WHERE name = 'seq'")
    }

    @Test func storingAMessageHandsOutItsSeqWithoutWritingTheCounter() async throws {
        defer { try? FileManager.default.removeItem(at: directory) }
        let database = try AppDatabase.open(dataDirectory: directory)
        let (seqs, last, counter) = try await database.write { store -> ([Int64], Int64, Int64?) in
            let fixture = try makeFixture(store)
            #expect(try store.lastSeq() == 0)
            let seqs = try (1...3).map { try send(store, fixture, room: fixture.rooms[0], id: "m\($0)") }
            return (seqs, try store.lastSeq(), try self.counter(store))
        }
        #expect(seqs == [1, 2, 3])
        #expect(last == 3)
        #expect(counter == 0)
    }

    @Test func deletingTheNewestMessagesNeverLetsTheirSeqBeHandedOutAgain() async throws {
        defer { try? FileManager.default.removeItem(at: directory) }
        let database = try AppDatabase.open(dataDirectory: directory)
        let fixture = try await database.write { store in try makeFixture(store) }
        let (family, cousins) = (fixture.rooms[0], fixture.rooms[1])

        // The newest message deleted on its own (a moderator's delete).
        let afterDelete = try await database.write { store -> Int64 in
            for n in 1...3 { _ = try send(store, fixture, room: family, id: "a\(n)") }
            let newest = try #require(try store.messageID(deviceID: fixture.deviceID, clientID: "a3"))
            #expect(try store.deleteMessage(id: newest))
            return try send(store, fixture, room: family, id: "a4")
        }
        #expect(afterDelete == 4)

        // The newest messages deleted through a foreign key: their room goes.
        let afterCascade = try await database.write { store -> Int64 in
            for n in 1...2 { _ = try send(store, fixture, room: cousins, id: "b\(n)") }
            try store.db.execute(sql: "DELETE FROM rooms WHERE id = ?", arguments: [cousins])
            #expect(
                try Int.fetchOne(store.db, sql: "SELECT count(*) FROM messages WHERE room_id = ?", arguments: [cousins])
                    == 0)
            return try send(store, fixture, room: family, id: "a5")
        }
        #expect(afterCascade == 7)

        // Every message gone: the floor alone remembers.
        let afterAll = try await database.write { store -> Int64 in
            try store.db.execute(sql: "DELETE FROM messages")
            return try send(store, fixture, room: family, id: "a6")
        }
        #expect(afterAll == 8)
    }

    @Test func aHeldMessageApprovedLaterIsPublishedAboveEveryOtherSeqAndKeepsItsPlace() async throws {
        defer { try? FileManager.default.removeItem(at: directory) }
        let database = try AppDatabase.open(dataDirectory: directory)
        let (published, next) = try await database.write { store -> (Int64, Int64) in
            let fixture = try makeFixture(store)
            let room = fixture.rooms[0]
            _ = try store.insertMessage(
                seq: try store.lastSeq() + 1, roomID: room, senderID: fixture.userID, deviceID: fixture.deviceID,
                clientID: "held", body: "held", held: true, now: 1)
            for n in 1...2 { _ = try send(store, fixture, room: room, id: "m\(n)") }
            // Approval, as the moderation queue does it: the next seq, stored under the message.
            let published = try store.lastSeq() + 1
            let id = try #require(try store.messageID(deviceID: fixture.deviceID, clientID: "held"))
            try store.publishHeldMessage(id: id, seq: published)
            return (published, try send(store, fixture, room: room, id: "m3"))
        }
        #expect(published == 4)
        #expect(next == 5)
    }
}

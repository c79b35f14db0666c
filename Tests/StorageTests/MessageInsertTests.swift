import Foundation
import GRDB
import Testing

@testable import Storage

/// The insert every message makes binds and runs its statement with SQLite's own calls
/// (`DirectStatement`): what it stores, what a retry gets, and what a failure leaves behind.
@Suite struct MessageInsertTests {
    let directory = FileManager.default.temporaryDirectory.appending(path: "hearth-insert-\(UUID().uuidString)")

    @Test func storesTextAsSentAndAnswersARetryWithTheFirstRow() async throws {
        defer { try? FileManager.default.removeItem(at: directory) }
        let database = try AppDatabase.open(dataDirectory: directory)
        try await database.write { store in
            let user = try store.insertUser(User(username: "mum", passwordHash: "x", role: .admin, createdAt: 1))
            let device = try store.insertDevice(
                userID: user.id, name: "laptop", userAgent: nil, ip: nil, tokenHash: Data([1]), now: 1)
            let room = try store.insertRoom(
                kind: .group, name: "Family", ownerID: user.id, directKey: nil, memberIDs: [user.id], now: 1
            ).id
            let text = "an emoji 🎂, a quote \" and\na line break"
            let first = try store.insertMessage(
                seq: 1, roomID: room, senderID: user.id, deviceID: device.id, clientID: "c1", body: text,
                mentions: ["dad", "kid"], now: 5)
            #expect(first == nil)
            let id = store.lastInsertedRowID
            let stored = try #require(
                try Row.fetchOne(store.db, sql: "SELECT * FROM messages WHERE id = ?", arguments: [id]))
            #expect(stored["body"] as String == text)
            #expect(stored["seq"] as Int64 == 1)
            #expect(stored["held"] as Bool == false)
            #expect(stored["reply_to"] as Int64? == nil)
            #expect(stored["mentions"] as String? == "dad\nkid")
            #expect(stored["created_at"] as Int64 == 5)

            // The same client id again: nothing stored, the first row's values come back.
            let retry = try #require(
                try store.insertMessage(
                    seq: 2, roomID: room, senderID: user.id, deviceID: device.id, clientID: "c1", body: "other",
                    held: true, now: 9))
            #expect(retry.id == id && retry.seq == 1 && retry.body == text && !retry.held)
            #expect(try Int.fetchOne(store.db, sql: "SELECT count(*) FROM messages") == 1)

            // A room that does not exist: SQLite's error, as GRDB would throw it, and the statement
            // is left ready for the next message.
            #expect {
                try store.insertMessage(
                    seq: 2, roomID: room + 100, senderID: user.id, deviceID: device.id, clientID: "c2", body: "lost",
                    now: 9)
            } throws: { error in
                (error as? DatabaseError)?.extendedResultCode == .SQLITE_CONSTRAINT_FOREIGNKEY
            }
            #expect(
                try store.insertMessage(
                    seq: 2, roomID: room, senderID: user.id, deviceID: device.id, clientID: "c2", body: "found",
                    replyTo: 1, now: 9) == nil)
            #expect(try store.message(roomID: room, seq: 2)?.body == "found")
        }
    }
}

import Foundation
import GRDB
import Testing

@testable import Storage

/// `Store.membersVersion()` moves with every change to who is in which room, so that the relay's
/// writer can keep member lists between transactions and know when they are stale.
@Suite struct MembersVersionTests {
    let directory = FileManager.default.temporaryDirectory.appending(path: "hearth-members-\(UUID().uuidString)")

    @Test func everyChangeToARoomsMembersMovesTheVersionAndNothingElseDoes() async throws {
        defer { try? FileManager.default.removeItem(at: directory) }
        let database = try AppDatabase.open(dataDirectory: directory)
        try await database.write { store in
            func user(_ name: String) throws -> Int64 {
                try store.insertUser(User(username: name, passwordHash: "x", role: .member, createdAt: 1)).id
            }
            /// Whether `change` moved the version.
            func moves(_ change: () throws -> Void) throws -> Bool {
                let before = try store.membersVersion()
                try change()
                return try store.membersVersion() != before
            }
            let (mum, dad, kid) = (try user("mum"), try user("dad"), try user("kid"))
            var family: Int64 = 0
            #expect(
                try moves {
                    family = try store.insertRoom(
                        kind: .group, name: "Family", ownerID: mum, directKey: nil, memberIDs: [mum, dad], now: 1
                    ).id
                })
            #expect(try moves { _ = try store.addMember(roomID: family, userID: kid, now: 2) })
            #expect(try store.memberIDs(roomID: family).sorted() == [mum, dad, kid].sorted())
            #expect(try moves { _ = try store.removeMember(roomID: family, userID: kid) })
            // Reading, receipts, settings and names leave the members as they are.
            #expect(try !moves { _ = try store.markRead(roomID: family, userID: dad, seq: 5) })
            #expect(try !moves { try store.markDelivered([(roomID: family, userID: dad, seq: 5)]) })
            #expect(try !moves { _ = try store.setRoomAdmin(roomID: family, userID: dad, true) })
            #expect(try !moves { try store.renameRoom(id: family, to: "Home") })
            // Rows that go through a foreign key count too: an account deleted, a room deleted.
            #expect(try moves { _ = try store.deleteUser(id: dad) })
            #expect(try store.memberIDs(roomID: family) == [mum])
            #expect(try moves { try store.db.execute(sql: "DELETE FROM rooms WHERE id = ?", arguments: [family]) })
            #expect(try store.memberIDs(roomID: family).isEmpty)
        }
    }
}

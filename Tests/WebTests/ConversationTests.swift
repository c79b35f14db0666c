import Foundation
import HearthTestSupport
import Services
import Storage
import Testing

@testable import Web

/// Replies, reactions, edits and deletions over real sockets: each change an event with its own
/// seq, live and through `sync`, idempotent by `id`, and refused with a specific error.
@Suite struct ConversationTests {
    @Test func repliesReactionsEditsAndDeletionsReachEveryoneLiveAndThroughSync() async throws {
        try await withLiveApp { family in
            let mum = try await family.socket(try await family.signIn("mum"))
            let dadToken = try await family.signIn("dad")
            let dad = try await family.socket(dadToken)
            let kidToken = try await family.signIn("kid")
            let room = try await family.group("Family", owner: "mum", members: ["dad", "kid"])

            try await mum.send(["type": "send", "id": "m1", "room": room, "body": "Dinner at 7?"])
            let first = try #require(try await mum.next("ack")["seq"] as? Int)
            _ = try await dad.next("message")
            // The kid's phone is offline from here on; its cursor is the first message.

            try await dad.send(["type": "send", "id": "d1", "room": room, "body": "Yes!", "replyTo": first])
            let reply = try await mum.next("message")
            let quoted = try #require(reply["replyTo"] as? [String: Any])
            #expect(quoted["seq"] as? Int == first && quoted["from"] as? String == "mum")
            #expect(quoted["excerpt"] as? String == "Dinner at 7?")
            _ = try await dad.next("ack")

            try await dad.send(["type": "react", "id": "r1", "room": room, "seq": first, "emoji": "👍", "on": true])
            let reaction = try await mum.next("reaction")
            #expect(reaction["seq"] as? Int == first && reaction["user"] as? String == "dad")
            #expect(reaction["emoji"] as? String == "👍" && reaction["on"] as? Bool == true)
            let reactionSeq = try #require(reaction["eventSeq"] as? Int)
            #expect(reactionSeq > first)
            #expect(try await dad.next("ack")["seq"] as? Int == reactionSeq)

            try await mum.send(["type": "edit", "id": "e1", "room": room, "seq": first, "body": "Dinner at 8?"])
            let edited = try await dad.next("edited")
            #expect(edited["seq"] as? Int == first && edited["body"] as? String == "Dinner at 8?")
            #expect(edited["editedAt"] is Int)
            let editSeq = try #require(edited["eventSeq"] as? Int)
            #expect(try await mum.next("ack")["seq"] as? Int == editSeq)

            try await dad.send(["type": "delete", "id": "x1", "room": room, "seq": reply["seq"] as? Int ?? 0])
            let deleted = try await mum.next("deleted")
            #expect(deleted["seq"] as? Int == reply["seq"] as? Int)
            let deleteSeq = try #require(deleted["eventSeq"] as? Int)
            _ = try await dad.next("ack")

            // Retries are acked as before and change nothing.
            for (frame, seq) in [
                (["type": "react", "id": "r1", "room": room, "seq": first, "emoji": "👍", "on": true], reactionSeq),
                (["type": "edit", "id": "e1", "room": room, "seq": first, "body": "Dinner at 8?"], editSeq),
                (["type": "delete", "id": "x1", "room": room, "seq": reply["seq"] as? Int ?? 0], deleteSeq),
            ] as [([String: Any], Int)] {
                let socket = frame["type"] as? String == "edit" ? mum : dad
                try await socket.send(frame)
                #expect(try await socket.next("ack")["seq"] as? Int == seq)
            }

            // The kid's phone catches up: the reply, then each change in order.
            let kid = try await family.socket(kidToken, query: "?after=\(first)")
            let replayed = try await kid.next("message")
            #expect(replayed["seq"] as? Int == reply["seq"] as? Int)
            #expect(replayed["deleted"] as? Bool == true && replayed["body"] as? String == "")
            #expect(try await kid.next("reaction")["eventSeq"] as? Int == reactionSeq)
            #expect(try await kid.next("edited")["eventSeq"] as? Int == editSeq)
            #expect(try await kid.next("deleted")["eventSeq"] as? Int == deleteSeq)
            #expect(try await kid.next("synced")["seq"] as? Int == deleteSeq)

            // History shows each message as it stands now.
            let history = try await family.call("GET", "/api/v1/rooms/\(room)/messages", token: dadToken)
            let messages = try #require(history.json["messages"] as? [[String: Any]])
            let original = try #require(messages.first { $0["seq"] as? Int == first })
            #expect(original["body"] as? String == "Dinner at 8?" && original["editedAt"] is Int)
            #expect((original["reactions"] as? [String: [String]]) == ["👍": ["dad"]])
            let gone = try #require(messages.first { $0["seq"] as? Int == reply["seq"] as? Int })
            #expect(gone["deleted"] as? Bool == true && gone["body"] as? String == "")

            // The edit kept the earlier text for moderators; the deleted text is gone.
            let originalID = try #require(original["id"] as? Int)
            let replySeq = try #require(reply["seq"] as? Int)
            let stored = try await family.env.services.database.read { store in
                (
                    try store.earlierTexts(messageID: Int64(originalID)).map(\.body),
                    try store.message(roomID: room, seq: Int64(replySeq))?.body
                )
            }
            #expect(stored.0 == ["Dinner at 7?"] && stored.1 == "")
            for socket in [mum, dad, kid] { await socket.close() }
        }
    }

    @Test func changesThatAreNotAllowedGetSpecificErrorsAndChangeNothing() async throws {
        try await withLiveApp { family in
            let mum = try await family.socket(try await family.signIn("mum"))
            let dad = try await family.socket(try await family.signIn("dad"))
            let room = try await family.directRoom("mum", "dad")
            try await mum.send(["type": "send", "id": "m1", "room": room, "body": "Mine"])
            let seq = try #require(try await mum.next("ack")["seq"] as? Int)
            _ = try await dad.next("message")

            let cases: [([String: Any], String)] = [
                (["type": "edit", "id": "a", "room": room, "seq": seq, "body": "Ha"], "not_yours"),
                (["type": "delete", "id": "b", "room": room, "seq": seq], "not_yours"),
                (["type": "react", "id": "c", "room": room, "seq": 999_999, "emoji": "👍", "on": true], "not_found"),
                (["type": "react", "id": "d", "room": room, "seq": seq, "emoji": "lol", "on": true], "invalid_field"),
                (["type": "react", "id": "e", "room": room, "seq": seq, "emoji": "👍"], "missing_field"),
                (["type": "edit", "id": "f", "room": room, "seq": seq], "missing_field"),
                (["type": "send", "id": "g", "room": room, "body": "x", "replyTo": 999_999], "not_found"),
            ]
            for (frame, code) in cases {
                try await dad.send(frame)
                let error = try await dad.next("error")
                #expect(error["code"] as? String == code, "\(frame)")
                #expect(error["id"] as? String == frame["id"] as? String, "\(frame)")
            }
            try await mum.send(["type": "edit", "id": "h", "room": room, "seq": seq, "body": "   "])
            #expect(try await mum.next("error")["code"] as? String == "invalid_field")
            try await mum.send(["type": "delete", "id": "i", "room": room, "seq": seq])
            _ = try await mum.next("ack")
            for (frame, code) in [
                (["type": "edit", "id": "j", "room": room, "seq": seq, "body": "again"], "not_found"),
                (["type": "react", "id": "k", "room": room, "seq": seq, "emoji": "👍", "on": true], "not_found"),
            ] as [([String: Any], String)] {
                try await mum.send(frame)
                #expect(try await mum.next("error")["code"] as? String == code, "\(frame)")
            }
            let dadID = try await family.env.accounts.user(named: "dad").id
            let events = try await family.env.services.database.read { store in
                try store.events(forUser: dadID, after: 0, limit: 100)
            }
            #expect(events.map(\.kind) == [.delete])
            await mum.close()
            await dad.close()
        }
    }

    @Test func editsGoThroughTheModerationRules() async throws {
        try await withLiveApp { family in
            let mumToken = try await family.signIn("mum", role: .admin)
            let mum = try await family.socket(mumToken)
            let dad = try await family.socket(try await family.signIn("dad"))
            let room = try await family.directRoom("mum", "dad")
            for (pattern, action) in [("darn", "mask"), ("forbidden", "block")] {
                let rule = try await family.call(
                    "POST", "/api/v1/admin/rules", json: ["kind": "word", "pattern": pattern, "action": action],
                    token: mumToken)
                #expect(rule.status == 201, "\(rule.json)")
            }
            try await dad.send(["type": "send", "id": "d1", "room": room, "body": "Hello"])
            let seq = try #require(try await dad.next("ack")["seq"] as? Int)
            _ = try await mum.next("message")

            try await dad.send(["type": "edit", "id": "e1", "room": room, "seq": seq, "body": "a forbidden word"])
            let refused = try await dad.next("error")
            #expect(refused["code"] as? String == "blocked_by_rule" && refused["id"] as? String == "e1")
            try await dad.send(["type": "edit", "id": "e2", "room": room, "seq": seq, "body": "darn it"])
            let ack = try await dad.next("ack")
            #expect(ack["body"] as? String == "*** it")
            #expect(try await mum.next("edited")["body"] as? String == "*** it")
            // Both the refusal and the edit are in the audit log, the edit with the text it replaced.
            let audit = try await family.env.services.moderation.auditLog(AuditFilter(action: "message_edited"))
            #expect(audit.first?.detail == "was: Hello")
            await mum.close()
            await dad.close()
        }
    }

    @Test func moderatorsDeleteAnyMessageMembersOnlyTheirOwn() async throws {
        try await withLiveApp { family in
            let mum = try await family.socket(try await family.signIn("mum", role: .moderator))
            let dad = try await family.socket(try await family.signIn("dad"))
            let room = try await family.directRoom("mum", "dad")
            try await dad.send(["type": "send", "id": "d1", "room": room, "body": "Oops"])
            let seq = try #require(try await dad.next("ack")["seq"] as? Int)
            _ = try await mum.next("message")
            try await mum.send(["type": "delete", "id": "x", "room": room, "seq": seq])
            #expect(try await dad.next("deleted")["seq"] as? Int == seq)
            _ = try await mum.next("ack")
            let audit = try await family.env.services.moderation.auditLog(AuditFilter(action: "message_deleted"))
            #expect(audit.first?.actor == "mum")
            await mum.close()
            await dad.close()
        }
    }

    @Test func mentionsNameMembersOnly() async throws {
        try await withLiveApp { family in
            let mum = try await family.socket(try await family.signIn("mum"))
            let dadToken = try await family.signIn("dad")
            _ = try await family.signIn("gran")
            let room = try await family.group("Family", owner: "mum", members: ["dad"])
            let body = "@dad dinner? ask @gran, mail mum@example.org, and @DAD. again"
            try await mum.send(["type": "send", "id": "m1", "room": room, "body": body])
            _ = try await mum.next("ack")
            let history = try await family.call("GET", "/api/v1/rooms/\(room)/messages", token: dadToken)
            let message = try #require((history.json["messages"] as? [[String: Any]])?.first)
            // gran is not in the room; the address is not a mention; dad counts once.
            #expect(message["mentions"] as? [String] == ["dad"])
            await mum.close()
        }
    }
}

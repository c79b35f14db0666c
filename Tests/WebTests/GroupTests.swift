import Foundation
import HearthTestSupport
import Services
import Storage
import Testing

@testable import Web

/// Rooms that update live, and group management by room admins, over real sockets.
@Suite struct GroupTests {
    @Test func newChatsRenamesAndMemberChangesReachEveryDeviceAtOnce() async throws {
        try await withLiveApp { family in
            let mumToken = try await family.signIn("mum")
            let dadToken = try await family.signIn("dad")
            let kidToken = try await family.signIn("kid")
            let dad = try await family.socket(dadToken)
            let kid = try await family.socket(kidToken)

            // A new direct chat appears on the other side before any message.
            let direct = try await family.call(
                "POST", "/api/v1/rooms", json: ["members": ["dad"], "direct": true], token: mumToken)
            let directRoom = try #require(try await dad.next("room")["room"] as? [String: Any])
            #expect(directRoom["id"] as? Int == (direct.json["room"] as? [String: Any])?["id"] as? Int)

            let created = try await family.call(
                "POST", "/api/v1/rooms", json: ["name": "Family", "members": ["dad"]], token: mumToken)
            let id = try #require((created.json["room"] as? [String: Any])?["id"] as? Int)
            let group = try #require(try await dad.next("room")["room"] as? [String: Any])
            #expect(group["name"] as? String == "Family")
            let members = try #require(group["members"] as? [[String: Any]])
            #expect(members.first { $0["username"] as? String == "mum" }?["admin"] as? Bool == true)
            #expect(members.first { $0["username"] as? String == "dad" }?["admin"] as? Bool == false)

            // Only room admins manage the group.
            let byDad = try await family.call("PATCH", "/api/v1/rooms/\(id)", json: ["name": "Ours"], token: dadToken)
            #expect(byDad.status == 403)
            let renamed = try await family.call(
                "PATCH", "/api/v1/rooms/\(id)", json: ["name": "Home"], token: mumToken)
            #expect(renamed.status == 200)
            #expect((try await dad.next("room")["room"] as? [String: Any])?["name"] as? String == "Home")
            let line = try await dad.next("message")
            #expect(line["body"] as? String == "mum renamed the group to “Home”" && line["system"] as? Bool == true)
            let blank = try await family.call("PATCH", "/api/v1/rooms/\(id)", json: ["name": " "], token: mumToken)
            #expect(blank.status == 400)

            // Adding the kid: the kid's devices learn of the group, everyone sees the line.
            let added = try await family.call(
                "POST", "/api/v1/rooms/\(id)/members", json: ["username": "kid"], token: mumToken)
            #expect(added.status == 200)
            #expect((try await kid.next("room")["room"] as? [String: Any])?["id"] as? Int == id)
            #expect(try await kid.next("message")["body"] as? String == "mum added kid")
            _ = try await dad.next("room")
            #expect(try await dad.next("message")["body"] as? String == "mum added kid")

            // Mum appoints dad, then dad may rename; the last admin cannot leave while others stay.
            let appointed = try await family.call(
                "PATCH", "/api/v1/rooms/\(id)/members/dad", json: ["admin": true], token: mumToken)
            #expect(appointed.status == 200)
            #expect(try await dad.next("message")["body"] as? String == "mum made dad a group admin")
            let dadRenames = try await family.call(
                "PATCH", "/api/v1/rooms/\(id)", json: ["name": "Our home"], token: dadToken)
            #expect(dadRenames.status == 200)
            let demoted = try await family.call(
                "PATCH", "/api/v1/rooms/\(id)/members/dad", json: ["admin": false], token: mumToken)
            #expect(demoted.status == 200)
            let mumLeaves = try await family.call("DELETE", "/api/v1/rooms/\(id)/members/mum", token: mumToken)
            #expect(mumLeaves.status == 400, "\(mumLeaves.json)")
            let kidRemovesDad = try await family.call("DELETE", "/api/v1/rooms/\(id)/members/dad", token: kidToken)
            #expect(kidRemovesDad.status == 403)

            // Removing the kid: the kid's devices get the room without them, then nothing more.
            let removed = try await family.call("DELETE", "/api/v1/rooms/\(id)/members/kid", token: mumToken)
            #expect(removed.status == 200)
            var last: [String: Any] = [:]
            while (last["members"] as? [[String: Any]])?.contains(where: { $0["username"] as? String == "kid" })
                != false
            {
                last = try #require(try await kid.next("room")["room"] as? [String: Any])
            }
            let dadSocketToken = dadToken
            let dadSender = try await family.socket(dadSocketToken)
            try await dadSender.send(["type": "send", "id": "d1", "room": id, "body": "Just us now"])
            _ = try await dadSender.next("ack")
            try await Task.sleep(for: .milliseconds(300))
            #expect(!kid.pending.contains { $0.contains("Just us now") })
            for socket in [dad, kid, dadSender] { await socket.close() }
        }
    }

    @Test func messageInfoSaysWhoHasReadAndWhoHasReceived() async throws {
        try await withServedApp { family in
            let mumToken = try await family.signIn("mum")
            let dadToken = try await family.signIn("dad")
            _ = try await family.signIn("kid")
            let mum = try await family.socket(mumToken)
            let dad = try await family.socket(dadToken)
            let room = try await family.group("Family", owner: "mum", members: ["dad", "kid"])
            try await mum.send(["type": "send", "id": "m1", "room": room, "body": "Who is home?"])
            let seq = try #require(try await mum.next("ack")["seq"] as? Int)
            _ = try await dad.next("message")
            _ = try await mum.next("receipt")  // delivered to dad

            // Written down within ten seconds; the kid's phone is off.
            var info: [String: Any] = [:]
            for _ in 0..<150 where (info["delivered"] as? [String]) != ["dad"] {
                try await Task.sleep(for: .milliseconds(100))
                info = try await family.call(
                    "GET", "/api/v1/rooms/\(room)/messages/\(seq)/receipts", token: mumToken
                ).json
            }
            #expect(info["delivered"] as? [String] == ["dad"] && info["waiting"] as? [String] == ["kid"])
            #expect((info["read"] as? [String])?.isEmpty == true)

            try await dad.send(["type": "read", "room": room, "seq": seq])
            _ = try await mum.next("receipt")
            let read = try await family.call(
                "GET", "/api/v1/rooms/\(room)/messages/\(seq)/receipts", token: mumToken
            ).json
            #expect(read["read"] as? [String] == ["dad"] && read["waiting"] as? [String] == ["kid"])
            let stranger = try await family.call(
                "GET", "/api/v1/rooms/\(room)/messages/\(seq)/receipts", token: try await family.signIn("gran"))
            #expect(stranger.status == 404)
            await mum.close()
            await dad.close()
        }
    }
}

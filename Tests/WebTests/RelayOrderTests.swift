import Foundation
import HearthTestSupport
import Services
import Storage
import Testing

/// The message stream has one writer: approvals of held messages and a flood of sends in another
/// room reach a device in both in strictly increasing seq, nothing skipped, live and by sync.
@Suite struct RelayOrderTests {
    @Test func approvalsDuringAFloodReachEveryDeviceInSeqOrder() async throws {
        try await withLiveApp { family in
            let mo = try await family.signIn("moe", role: .moderator)
            let kid = try await family.signIn("kid")
            let bobby = try await family.signIn("bobby")
            let group = try await family.group("Kitchen", owner: "moe", members: ["kid", "bobby"])
            // Kid's messages in the group are held for review.
            _ = try await family.env.services.moderation.createRule(
                RuleDraft(kind: "word", pattern: "pancakes", action: "hold", scope: group), by: .cli)
            let kidSocket = try await family.socket(kid)
            let held = 60
            for index in 0..<held {
                try await kidSocket.send([
                    "type": "send", "id": "h\(index)", "room": group, "body": "pancakes \(index)",
                ])
            }
            #expect(try await kidSocket.collect("ack", count: held).allSatisfy { $0["held"] as? Bool == true })
            let queue = try await family.call("GET", "/api/v1/admin/queue?limit=200", token: mo)
            let items = try #require(queue.json["items"] as? [[String: Any]]).compactMap { $0["id"] as? Int }
            #expect(items.count == held)

            // Five flooders in direct chats with bobby, and the moderator approving all 60 at once.
            let flooders = 5
            let perFlooder = 300
            var directs: [Int64] = []
            var floodSockets: [TestSocket] = []
            for index in 0..<flooders {
                let token = try await family.signIn("flood\(index)")
                directs.append(try await family.directRoom("flood\(index)", "bobby"))
                floodSockets.append(try await family.socket(token))
            }
            let bobbySocket = try await family.socket(bobby)
            let rooms = directs
            let sockets = floodSockets
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                for (socket, room) in zip(sockets, rooms) {
                    tasks.addTask {
                        for index in 0..<perFlooder {
                            try await socket.send([
                                "type": "send", "id": "f\(index)", "room": room, "body": "hi \(room) \(index)",
                            ])
                        }
                        _ = try await socket.collect("ack", count: perFlooder, timeout: 60)
                    }
                }
                for id in items {
                    tasks.addTask {
                        let answer = try await family.call(
                            "POST", "/api/v1/admin/queue/\(id)/approve", json: [:], token: mo)
                        #expect(answer.status == 204 || answer.status == 200, "\(answer.json)")
                    }
                }
                try await tasks.waitForAll()
            }
            let sends = flooders * perFlooder
            // A last message after everything else: when it arrives, nothing else is on its way.
            try await sockets[0].send(["type": "send", "id": "end", "room": rooms[0], "body": "the end"])
            // Bobby's live socket: every message, each seq above the one before.
            var live: [[String: Any]] = []
            while true {
                let frame = try await bobbySocket.next("message", timeout: 60)
                if frame["body"] as? String == "the end" { break }
                live.append(frame)
            }
            let seqs = live.compactMap { $0["seq"] as? Int }
            #expect(seqs.count == sends + held, "bobby's socket skipped \(sends + held - seqs.count) messages")
            #expect(zip(seqs, seqs.dropFirst()).allSatisfy { $0 < $1 }, "out of order: \(seqs)")
            let bodies = Set(live.compactMap { $0["body"] as? String })
            let expected = rooms.flatMap { room in (0..<perFlooder).map { "hi \(room) \($0)" } }
            #expect(bodies == Set(expected + (0..<held).map { "pancakes \($0)" }))
            // And a sync from the start gives him the same messages.
            let bobbyID = try await family.env.accounts.user(named: "bobby").id
            let synced = try await family.env.services.database.read { store in
                try store.messages(forUser: bobbyID, after: 0, limit: 10_000)
            }
            #expect(synced.dropLast().map { Int($0.seq) } == seqs)
            for socket in [kidSocket, bobbySocket] + sockets { await socket.close() }
        }
    }
}

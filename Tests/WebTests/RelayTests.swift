import Foundation
import HTTPTypes
import HearthTestSupport
import Hummingbird
import HummingbirdTesting
import Services
import Storage
import Testing

@testable import Web

/// The relay over real sockets on 127.0.0.1.
@Suite struct RelayTests {
    @Test func liveDeliveryReachesEveryDeviceOfEveryMember() async throws {
        try await withLiveApp { family in
            let mumLaptop = try await family.socket(try await family.signIn("mum", device: "laptop"))
            let mumPhone = try await family.socket(try await family.signIn("mum", device: "phone"))
            let kidLaptop = try await family.socket(try await family.signIn("kid", device: "laptop"))
            let kidPhone = try await family.socket(try await family.signIn("kid", device: "phone"))
            let room = try await family.directRoom("mum", "kid")

            try await mumLaptop.send(["type": "send", "id": "m1", "room": room, "body": "Dinner at 7"])
            let ack = try await mumLaptop.next("ack")
            #expect(ack["id"] as? String == "m1")
            let seq = try #require(ack["seq"] as? Int)
            for device in [mumPhone, kidLaptop, kidPhone] {
                let message = try await device.next("message")
                #expect(message["body"] as? String == "Dinner at 7")
                #expect(message["seq"] as? Int == seq)
                #expect(message["room"] as? Int == Int(room))
                #expect((message["from"] as? [String: Any])?["username"] as? String == "mum")
                #expect(message["ts"] as? Int == ack["ts"] as? Int)
            }
            // The sending socket gets the ack, not a copy of its own message.
            #expect(!mumLaptop.pending.contains { $0.contains("\"type\":\"message\"") })

            // And the other way round, from the kid's phone.
            try await kidPhone.send(["type": "send", "id": "k1", "room": room, "body": "OK!"])
            _ = try await kidPhone.next("ack")
            for device in [mumLaptop, mumPhone, kidLaptop] {
                #expect(try await device.next("message")["body"] as? String == "OK!")
            }
            // The sender hears that the message was delivered.
            let receipt = try await kidPhone.next("receipt")
            #expect(receipt["kind"] as? String == "delivered")
            #expect(receipt["user"] as? String == "mum")
            for socket in [mumLaptop, mumPhone, kidLaptop, kidPhone] { await socket.close() }
        }
    }

    @Test func sendsWithinTheCommitIntervalShareACommitAndOneReceipt() async throws {
        try await withLiveApp({ $0.relay.commitIntervalMilliseconds = 1000 }) { family in
            let mum = try await family.socket(try await family.signIn("mum"))
            let dad = try await family.socket(try await family.signIn("dad"))
            let room = try await family.directRoom("mum", "dad")
            // The writer is idle: the first send commits at once.
            let started = ContinuousClock.now
            try await mum.send(["type": "send", "id": "first", "room": room, "body": "Are you up?"])
            let first = try await mum.next("ack")
            let firstAcked = ContinuousClock.now - started
            #expect(try await mum.next("receipt")["seq"] as? Int == first["seq"] as? Int)
            // Five more at once: they wait for the interval, then share one transaction.
            for index in 1...5 {
                try await mum.send(["type": "send", "id": "burst\(index)", "room": room, "body": "ping \(index)"])
            }
            let acks = try await mum.collect("ack", count: 5)
            let burstAcked = ContinuousClock.now - started
            #expect(acks.map { $0["id"] as? String } == (1...5).map { "burst\($0)" })
            #expect(burstAcked >= .milliseconds(800), "the second commit began \(burstAcked) after the first send")
            #expect(firstAcked < .milliseconds(800), "the first send waited \(firstAcked)")
            let received = try await dad.collect("message", count: 6)
            #expect(received.map { $0["body"] as? String } == ["Are you up?"] + (1...5).map { "ping \($0)" })
            // One receipt for the whole commit, cumulative: dad has everything up to the last
            // seq, and it comes after the acks it covers (the same write, when nothing came between).
            let receipt = try await mum.next("receipt")
            #expect(receipt["kind"] as? String == "delivered" && receipt["user"] as? String == "dad")
            #expect(receipt["seq"] as? Int == acks.last?["seq"] as? Int)
            try await Task.sleep(for: .milliseconds(200))
            #expect(!mum.pending.contains { $0.contains("\"type\":\"receipt\"") }, "\(mum.pending)")
            for socket in [mum, dad] { await socket.close() }
        }
    }

    @Test func everyAnswerOfABatchComesInTheOrderSentRefusalsIncluded() async throws {
        try await withLiveApp({ $0.relay.commitIntervalMilliseconds = 1000 }) { family in
            let gran = try await family.signIn("gran", role: .admin)
            let mum = try await family.socket(try await family.signIn("mum"))
            _ = try await family.signIn("dad")
            let room = try await family.directRoom("mum", "dad")
            let rule = try await family.call(
                "POST", "/api/v1/admin/rules", json: ["kind": "rate", "pattern": "2/60s", "action": "block"],
                token: gran)
            #expect(rule.status == 201, "\(rule.json)")
            // The writer is idle: the first send commits at once, and the five after it share the
            // next batch. The third message in a minute fires the rule (recorded in the commit); the
            // later ones are refused by the screening alone, before the commit — yet answered after
            // the earlier sends of their batch, in the order sent.
            try await mum.send(["type": "send", "id": "s0", "room": room, "body": "zero"])
            #expect(try await mum.next("ack")["id"] as? String == "s0")
            for index in 1...5 {
                try await mum.send(["type": "send", "id": "s\(index)", "room": room, "body": "message \(index)"])
            }
            var answers: [String] = []
            while answers.count < 5 {
                let frame = try await mum.next()
                guard let type = frame["type"] as? String, type == "ack" || type == "error" else { continue }
                let outcome = type == "ack" ? "ack" : frame["code"] as? String ?? "?"
                answers.append("\(frame["id"] as? String ?? "?") \(outcome)")
            }
            #expect(
                answers == ["s1 ack", "s2 rate_limited", "s3 rate_limited", "s4 rate_limited", "s5 rate_limited"])
            await mum.close()
        }
    }

    @Test func aRetriedIDGetsTheSameAckAndStoresNothing() async throws {
        try await withLiveApp { family in
            let token = try await family.signIn("mum")
            _ = try await family.signIn("dad")
            let room = try await family.directRoom("mum", "dad")
            let socket = try await family.socket(token)
            try await socket.send(["type": "send", "id": "same", "room": room, "body": "once"])
            let first = try await socket.next("ack")
            try await socket.send(["type": "send", "id": "same", "room": room, "body": "once"])
            let second = try await socket.next("ack")
            #expect(first["seq"] as? Int == second["seq"] as? Int)
            #expect(first["ts"] as? Int == second["ts"] as? Int)
            let stored = try await family.env.services.database.read {
                try $0.history(roomID: room, before: nil, limit: 10)
            }
            #expect(stored.count == 1)
            await socket.close()
        }
    }

    @Test func anAckSurvivesARestart() async throws {
        let directory = FileManager.default.temporaryDirectory.appending(path: "hearth-restart-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let tokens = Tokens()
        try await withLiveApp(directory: directory) { family in
            let mum = try await family.signIn("mum")
            let dad = try await family.signIn("dad")
            let room = try await family.directRoom("mum", "dad")
            let socket = try await family.socket(mum)
            try await socket.send(["type": "send", "id": "before-restart", "room": room, "body": "Still here?"])
            let ack = try await socket.next("ack")
            tokens.set(mum: mum, dad: dad, seq: ack["seq"] as? Int ?? -1)
            // The server stops right after the ack.
        }
        try await withLiveApp(directory: directory) { family in
            let (mum, dad, seq) = tokens.get()
            let phone = try await family.socket(dad)
            try await phone.send(["type": "sync", "after": 0])
            let message = try await phone.next("message")
            #expect(message["body"] as? String == "Still here?")
            #expect(message["seq"] as? Int == seq)
            #expect(try await phone.next("synced")["seq"] as? Int == seq)
            // Retrying the same id after the restart still stores nothing new.
            let laptop = try await family.socket(mum)
            try await laptop.send(["type": "send", "id": "before-restart", "room": 1, "body": "Still here?"])
            #expect(try await laptop.next("ack")["seq"] as? Int == seq)
            // And the sequence keeps growing from where it was.
            try await laptop.send(["type": "send", "id": "after-restart", "room": 1, "body": "Yes"])
            #expect(try await laptop.next("ack")["seq"] as? Int == seq + 1)
            await phone.close()
            await laptop.close()
        }
    }

    @Test func anOfflineDeviceCatchesUpInOrderWithNothingTwice() async throws {
        try await withLiveApp({ $0.relay.syncPageSize = 7 }) { family in
            let mum = try await family.socket(try await family.signIn("mum"))
            let kidToken = try await family.signIn("kid")
            _ = try await family.signIn("dad")
            let direct = try await family.directRoom("mum", "kid")
            let group = try await family.group("Family", owner: "mum", members: ["kid", "dad"])
            let other = try await family.directRoom("mum", "dad")  // the kid is not in this one
            for index in 0..<40 {
                let room = [direct, group, other][index % 3]
                try await mum.send(["type": "send", "id": "m\(index)", "room": room, "body": "message \(index)"])
            }
            let acks = try await mum.collect("ack", count: 40)
            let expected = zip(0..<40, acks).filter { $0.0 % 3 != 2 }.compactMap { $0.1["seq"] as? Int }

            let kid = try await family.socket(kidToken)
            try await kid.send(["type": "sync", "after": 0])
            let received = try await kid.collect("message", count: expected.count)
            #expect(received.compactMap { $0["seq"] as? Int } == expected)
            #expect(try await kid.next("synced")["seq"] as? Int == expected.last)
            // Catching up again from the middle replays only what is asked and not yet sent.
            try await kid.send(["type": "sync", "after": expected[10]])
            #expect(try await kid.next("synced")["seq"] as? Int == expected.last)
            #expect(!kid.pending.contains { $0.contains("\"type\":\"message\"") })
            await mum.close()
            await kid.close()
        }
    }

    /// A socket that was handed a live message before it asked to catch up still gets every older
    /// message it missed (the storm benchmark caught syncs skipping them: a reconnecting device
    /// lost what was sent while it was away if a newer message reached it first).
    @Test func aSyncAfterALiveMessageStillSendsWhatCameBefore() async throws {
        try await withLiveApp({ $0.relay.syncPageSize = 3 }) { family in
            let mum = try await family.socket(try await family.signIn("mum"))
            let dadToken = try await family.signIn("dad")
            let room = try await family.directRoom("mum", "dad")
            for index in 0..<5 {
                try await mum.send(["type": "send", "id": "away\(index)", "room": room, "body": "while away \(index)"])
            }
            let missed = try await mum.collect("ack", count: 5).compactMap { $0["seq"] as? Int }
            let dad = try await family.socket(dadToken)
            try await mum.send(["type": "send", "id": "live", "room": room, "body": "are you back?"])
            let live = try #require(try await dad.next("message")["seq"] as? Int)
            try await dad.send(["type": "sync", "after": 0])
            let caughtUp = try await dad.collect("message", count: 5).compactMap { $0["seq"] as? Int }
            #expect(caughtUp == missed)
            #expect(try await dad.next("synced")["seq"] as? Int == live)
            #expect(!dad.pending.contains { $0.contains("\"type\":\"message\"") }, "the live one came twice")
            await mum.close()
            await dad.close()
        }
    }

    @Test func aSyncRacingLiveSendsLeavesNoGapAndNoDuplicate() async throws {
        try await withLiveApp({ $0.relay.syncPageSize = 5 }) { family in
            let mum = try await family.socket(try await family.signIn("mum"))
            let dad = try await family.socket(try await family.signIn("dad"))
            let room = try await family.directRoom("mum", "dad")
            for index in 0..<60 {
                try await mum.send(["type": "send", "id": "a\(index)", "room": room, "body": "before \(index)"])
            }
            _ = try await mum.collect("ack", count: 60)
            // The dad's phone drains what came live, then syncs from 0 while the mum keeps sending.
            _ = try await dad.collect("message", count: 60)
            let sender = Task {
                for index in 0..<120 {
                    try await mum.send(["type": "send", "id": "b\(index)", "room": room, "body": "during \(index)"])
                }
            }
            try await dad.send(["type": "sync", "after": 0])
            try await sender.value
            let acks = try await mum.collect("ack", count: 120)
            let last = try #require(acks.compactMap { $0["seq"] as? Int }.max())
            var seen: [Int] = []
            while seen.last != last {
                seen.append(try #require(try await dad.next("message")["seq"] as? Int))
            }
            #expect(Set(seen).count == seen.count, "a message came twice")
            #expect(seen.count == 120, "every message sent during the sync, once")
            #expect(seen == seen.sorted())
            await mum.close()
            await dad.close()
        }
    }

    @Test func aSlowReaderIsCutOffWhileOthersKeepUp() async throws {
        try await withLiveApp({ configuration in
            configuration.relay.outboxFrames = 64
            configuration.relay.outboxBytes = 1024 * 1024
        }) { family in
            let mum = try await family.socket(try await family.signIn("mum"))
            let slow = try await family.socket(try await family.signIn("dad"), paused: true)
            let fast = try await family.socket(try await family.signIn("kid"))
            let room = try await family.group("Family", owner: "mum", members: ["dad", "kid"])
            // 9 MB in all: more than the slow phone's socket buffers and outbox can hold.
            let body = String(repeating: "x", count: 15_000)
            for chunk in 0..<30 {
                for index in 0..<20 {
                    try await mum.send(["type": "send", "id": "m\(chunk)-\(index)", "room": room, "body": body])
                }
                _ = try await mum.collect("ack", count: 20)
                // The fast reader keeps pace all along.
                #expect(try await fast.collect("message", count: 20).count == 20)
            }
            slow.resume()
            #expect(try await slow.closeCode() == 4008)
            await mum.close()
            await fast.close()
        }
    }

    @Test func signingOutOrRevokingADeviceClosesItsSocket() async throws {
        try await withLiveApp { family in
            let phoneToken = try await family.signIn("mum", device: "phone")
            let laptopToken = try await family.signIn("mum", device: "laptop")
            let phone = try await family.socket(phoneToken)
            let laptop = try await family.socket(laptopToken)
            let phoneID = try await family.env.sessions.authenticate(token: phoneToken, client: .commandLine).device.id
            let mum = try await family.env.accounts.user(named: "mum")
            try await family.env.sessions.revokeDevice(phoneID, of: mum)
            #expect(try await phone.closeCode() == 4001)
            try await laptop.send(["type": "ping", "id": "still-here"])
            #expect(try await laptop.next("pong")["id"] as? String == "still-here")
            try await family.env.accounts.disable(username: "mum")
            #expect(try await laptop.closeCode() == 4001)
        }
    }

    @Test func badFramesGetSpecificErrorsAndTheSocketStaysOpen() async throws {
        try await withLiveApp({ $0.relay.maxBodyBytes = 100 }) { family in
            let socket = try await family.socket(try await family.signIn("mum"))
            _ = try await family.signIn("dad")
            _ = try await family.signIn("stranger")
            let room = try await family.directRoom("mum", "dad")
            let theirs = try await family.directRoom("dad", "stranger")
            let cases: [(String, String)] = [
                ("not json", "malformed_json"),
                ("[1,2]", "invalid_field"),
                (#"{"id":"x"}"#, "missing_field"),
                (#"{"type":"dance"}"#, "unknown_type"),
                (#"{"type":"send","room":\#(room),"body":"hi"}"#, "missing_field"),
                (#"{"type":"send","id":"a","body":"hi"}"#, "missing_field"),
                (#"{"type":"send","id":"a","room":"one","body":"hi"}"#, "invalid_field"),
                (#"{"type":"send","id":"a","room":\#(room),"body":42}"#, "invalid_field"),
                (#"{"type":"send","id":"a","room":99999,"body":"hi"}"#, "room_not_found"),
                (#"{"type":"send","id":"a","room":\#(theirs),"body":"hi"}"#, "not_a_member"),
                (
                    #"{"type":"send","id":"a","room":\#(room),"body":"\#(String(repeating: "y", count: 101))"}"#,
                    "too_large"
                ),
                (
                    #"{"type":"send","id":"\#(String(repeating: "i", count: 65))","room":\#(room),"body":"hi"}"#,
                    "invalid_id"
                ),
                (#"{"type":"send","id":"a","room":\#(room),"body":"hi","attachments":["nope"]}"#, "not_found"),
                (#"{"type":"send","id":"a","room":\#(room),"body":"hi","attachments":[5]}"#, "invalid_field"),
                (#"{"type":"send","id":"a","room":\#(room),"body":"   "}"#, "invalid_field"),
                // Stored text ends at a NUL (SQLite takes C strings): refused, not cut short.
                (#"{"type":"send","id":"a","room":\#(room),"body":"cut\u0000here"}"#, "invalid_field"),
                (#"{"type":"sync"}"#, "missing_field"),
                (#"{"type":"read","room":\#(room)}"#, "missing_field"),
                (#"{"type":"typing","room":\#(theirs)}"#, "not_a_member"),
            ]
            for (frame, code) in cases {
                try await socket.sendText(frame)
                let error = try await socket.next("error")
                #expect(error["code"] as? String == code, "\(frame)")
            }
            try await socket.sendBinary()
            #expect(try await socket.next("error")["code"] as? String == "unsupported_frame")
            // Nothing was stored, and the socket still works.
            let stored = try await family.env.services.database.read {
                try $0.messages(forUser: 1, after: 0, limit: 10)
            }
            #expect(stored.isEmpty)
            try await socket.send(["type": "send", "id": "ok", "room": room, "body": "fine"])
            #expect(try await socket.next("ack")["id"] as? String == "ok")
            await socket.close()
        }
    }

    @Test func aFloodIsRateLimited() async throws {
        try await withLiveApp({ $0.relay.messagesPerMinute = 5 }) { family in
            let socket = try await family.socket(try await family.signIn("mum"))
            _ = try await family.signIn("dad")
            let room = try await family.directRoom("mum", "dad")
            for index in 0..<8 {
                try await socket.send(["type": "send", "id": "f\(index)", "room": room, "body": "spam"])
            }
            #expect(try await socket.collect("ack", count: 5).count == 5)
            let limited = try await socket.collect("error", count: 3)
            #expect(limited.allSatisfy { $0["code"] as? String == "rate_limited" })
            #expect(limited.map { $0["id"] as? String } == ["f5", "f6", "f7"])
            await socket.close()
        }
    }

    /// The per-socket frame limit refuses a send before it is read: the error still names the
    /// send's `id`, so the client knows which one to retry.
    @Test func aFrameFloodIsRefusedWithTheIdOfEachSend() async throws {
        try await withLiveApp({ $0.relay.framesPerSecond = 1 }) { family in
            let socket = try await family.socket(try await family.signIn("mum"))
            _ = try await family.signIn("dad")
            let room = try await family.directRoom("mum", "dad")
            for index in 0..<6 {
                try await socket.send(["type": "send", "id": "s\(index)", "room": room, "body": "hi"])
            }
            let errors = try await socket.collect("error", count: 4)
            #expect(errors.allSatisfy { $0["code"] as? String == "rate_limited" })
            #expect(Set(errors.compactMap { $0["id"] as? String }).count == 4)
            await socket.close()
        }
    }

    @Test func readReceiptsTypingAndPresence() async throws {
        try await withLiveApp { family in
            let mumToken = try await family.signIn("mum")
            let dadToken = try await family.signIn("dad")
            let room = try await family.directRoom("mum", "dad")
            let mum = try await family.socket(mumToken)
            let dad = try await family.socket(dadToken)
            // Each learns the other is online.
            let online = try await mum.next("presence")
            #expect(online["user"] as? String == "dad" && online["online"] as? Bool == true)

            try await mum.send(["type": "send", "id": "q", "room": room, "body": "Milk?"])
            let seq = try #require(try await mum.next("ack")["seq"] as? Int)
            _ = try await dad.next("message")
            let delivered = try await mum.next("receipt")
            #expect(delivered["kind"] as? String == "delivered" && delivered["user"] as? String == "dad")
            try await dad.send(["type": "typing", "room": room])
            let typing = try await mum.next("typing")
            #expect(typing["user"] as? String == "dad" && typing["room"] as? Int == Int(room))
            try await dad.send(["type": "read", "room": room, "seq": seq])
            let readReceipt = try await mum.next("receipt")
            #expect(readReceipt["kind"] as? String == "read" && readReceipt["seq"] as? Int == seq)
            let stored = try await family.env.services.database.read { try $0.members(roomID: room) }
            #expect(stored.first { $0.username == "dad" }?.lastReadSeq == Int64(seq))

            await dad.close()
            let offline = try await mum.next("presence")
            #expect(offline["user"] as? String == "dad" && offline["online"] as? Bool == false)
            await mum.close()
        }
    }

    @Test func theSocketNeedsAuthenticationBeforeTheUpgrade() async throws {
        try await withLiveApp { family in
            await #expect(throws: (any Error).self) { _ = try await TestSocket(port: family.port) }
            await #expect(throws: (any Error).self) { _ = try await TestSocket(port: family.port, token: "forged") }
            let token = try await family.signIn("mum")
            // The session cookie works only from this server's own pages.
            // A refused upgrade gets no socket, and the reason: 403 for a cookie without our origin,
            // 401 without a valid session (hummingbird-websocket alone would answer a bare 400).
            let cookie = "hearth_session=\(token)"
            let port = family.port
            #expect(try await upgradeStatus(port: port, headers: ["Cookie": cookie]) == 403)
            #expect(
                try await upgradeStatus(port: port, headers: ["Cookie": cookie, "Origin": "https://evil.example"])
                    == 403)
            #expect(
                try await upgradeStatus(port: port, headers: ["Cookie": cookie, "Origin": "http://127.0.0.1:\(port)"])
                    == 101)
            #expect(try await upgradeStatus(port: port, headers: ["Authorization": "Bearer \(token)"]) == 101)
            #expect(try await upgradeStatus(port: port, headers: ["Authorization": "Bearer nope"]) == 401)
            #expect(try await upgradeStatus(port: port, headers: [:]) == 401)
            // Without an upgrade, the same route answers with the reason in JSON.
            let client = try await family.http("GET", "/api/v1/ws")
            #expect(client.status == 401)
            let forged = try await family.http(
                "GET", "/api/v1/ws", headers: ["Cookie": cookie, "Origin": "https://evil.example"])
            #expect(forged.status == 403)
            #expect(forged.body.contains("origin_mismatch"))
        }
    }

    @Test func removedMembersStopReceivingTheRoom() async throws {
        try await withLiveApp { family in
            let mum = try await family.socket(try await family.signIn("mum"))
            let kid = try await family.socket(try await family.signIn("kid"))
            _ = try await family.signIn("dad")
            let room = try await family.group("Parents", owner: "mum", members: ["dad", "kid"])
            // The writer keeps a room's members from one transaction to the next (RoomMembers):
            // this message has it read them, so what follows checks it notices the removal.
            try await mum.send(["type": "send", "id": "before", "room": room, "body": "Dinner at six"])
            _ = try await mum.next("ack")
            #expect(try await kid.next("message")["body"] as? String == "Dinner at six")
            try await family.env.services.rooms.removeMember(
                room, username: "kid", by: try await family.env.accounts.user(named: "mum"))
            try await mum.send(["type": "send", "id": "secret", "room": room, "body": "Birthday plans"])
            _ = try await mum.next("ack")
            try await kid.send(["type": "ping", "id": "p"])
            _ = try await kid.next("pong")
            #expect(!kid.pending.contains { $0.contains("Birthday") })
            try await kid.send(["type": "send", "id": "x", "room": room, "body": "hi"])
            #expect(try await kid.next("error")["code"] as? String == "not_a_member")
            await mum.close()
            await kid.close()
        }
    }

    @Test func addedMembersReceiveTheNextMessage() async throws {
        try await withLiveApp { family in
            let mum = try await family.socket(try await family.signIn("mum"))
            let kid = try await family.socket(try await family.signIn("kid"))
            _ = try await family.signIn("dad")
            let room = try await family.group("Parents", owner: "mum", members: ["dad"])
            // Sent before the kid joins: the writer reads the room's members and keeps them.
            try await mum.send(["type": "send", "id": "before", "room": room, "body": "Just us"])
            _ = try await mum.next("ack")
            try await kid.send(["type": "send", "id": "early", "room": room, "body": "me too"])
            #expect(try await kid.next("error")["code"] as? String == "not_a_member")
            try await family.env.services.rooms.addMember(
                room, username: "kid", by: try await family.env.accounts.user(named: "mum"))
            try await mum.send(["type": "send", "id": "after", "room": room, "body": "Welcome"])
            _ = try await mum.next("ack")
            var bodies: [String] = []
            while !bodies.contains("Welcome") {
                bodies.append(try await kid.next("message")["body"] as? String ?? "")
            }
            #expect(!bodies.contains("Just us"))
            try await kid.send(["type": "send", "id": "late", "room": room, "body": "thanks"])
            #expect(try await kid.next("ack")["id"] as? String == "late")
            await mum.close()
            await kid.close()
        }
    }
}

/// Carries values from one server's lifetime to the next.
final class Tokens: @unchecked Sendable {
    private let lock = NSLock()
    private var values = ("", "", 0)
    func set(mum: String, dad: String, seq: Int) {
        lock.withLock { values = (mum, dad, seq) }
    }
    func get() -> (String, String, Int) { lock.withLock { values } }
}

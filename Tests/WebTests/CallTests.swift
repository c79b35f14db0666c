import Foundation
import HearthTestSupport
import Storage
import Testing

@testable import Services
@testable import Web

/// Calls signalled over real sockets: a ring on every device, the first answer takes it, the
/// others stop; WebRTC signalling only between the call's devices; the line each call leaves;
/// the refusals.
@Suite struct CallTests {
    /// A call frame: `action` for `call`, in `room` when given.
    static func call(
        _ action: String, _ call: String, room: Int64? = nil, video: Bool = false, id: String? = nil
    )
        -> [String: Any]
    {
        var frame: [String: Any] = ["type": "call", "call": call, "action": action, "video": video]
        if let room { frame["room"] = room }
        if let id { frame["id"] = id }
        return frame
    }

    /// The id of the device behind `token` (as call frames name it).
    static func deviceID(_ family: Family, _ token: String) async throws -> Int64 {
        try await family.env.sessions.authenticate(token: token, client: TestServices.home).device.id
    }

    @Test func aRingReachesEveryDeviceAndTheFirstAnswerTakesIt() async throws {
        try await withLiveApp({ configuration in
            // Under the socket's own frame limit (64 KiB, past which it closes with 1009).
            configuration.calls.signalBytes = 16 * 1024
        }) { family in
            let mum = try await family.signIn("mum")
            let dadPhone = try await family.signIn("dad", device: "phone")
            let dadLaptop = try await family.signIn("dad", device: "laptop")
            let room = try await family.directRoom("mum", "dad")
            let (mumDevice, phoneDevice, laptopDevice) = (
                try await Self.deviceID(family, mum), try await Self.deviceID(family, dadPhone),
                try await Self.deviceID(family, dadLaptop)
            )
            let mumSocket = try await family.socket(mum)
            let phone = try await family.socket(dadPhone)
            let laptop = try await family.socket(dadLaptop)

            try await mumSocket.send(Self.call("ring", "call-0001", room: room, video: true, id: "r1"))
            let ringing = try await mumSocket.next("call")
            #expect(
                ringing["action"] as? String == "ringing" && ringing["devices"] as? Int == 2
                    && ringing["id"] as? String == "r1")
            for socket in [phone, laptop] {
                let ring = try await socket.next("call")
                #expect(ring["action"] as? String == "ring" && ring["from"] as? String == "mum")
                #expect(ring["video"] as? Bool == true && ring["room"] as? Int64 == room)
                #expect(ring["fromDevice"] as? Int64 == mumDevice && ring["call"] as? String == "call-0001")
            }

            // The laptop answers: it learns whom to call, mum learns who answered, the phone stops.
            try await laptop.send(Self.call("accept", "call-0001"))
            let joined = try await laptop.next("call")
            #expect(joined["action"] as? String == "joined")
            let participants = joined["participants"] as? [[String: Any]] ?? []
            #expect(participants.count == 1 && participants.first?["device"] as? Int64 == mumDevice)
            let accepted = try await mumSocket.next("call")
            #expect(accepted["action"] as? String == "accept" && accepted["fromDevice"] as? Int64 == laptopDevice)
            let elsewhere = try await phone.next("call")
            #expect(elsewhere["action"] as? String == "answered_elsewhere")
            // The phone answers too late.
            try await phone.send(Self.call("accept", "call-0001", id: "late"))
            let late = try await phone.next("error")
            #expect(late["id"] as? String == "late" && late["code"] as? String == "invalid_field")

            // Offer, answer and candidates pass between the two devices of the call, as sent.
            let offer: [String: Any] = ["type": "offer", "sdp": "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n"]
            try await laptop.send(["type": "rtc", "call": "call-0001", "to": mumDevice, "sdp": offer])
            let got = try await mumSocket.next("rtc")
            #expect((got["sdp"] as? [String: Any])?["sdp"] as? String == offer["sdp"] as? String)
            #expect(got["fromDevice"] as? Int64 == laptopDevice && got["from"] as? String == "dad")
            let candidate: [String: Any] = [
                "candidate": "candidate:1 1 udp 2122260223 127.0.0.1 5000 typ host", "sdpMid": "0",
            ]
            try await mumSocket.send(["type": "rtc", "call": "call-0001", "to": laptopDevice, "candidate": candidate])
            let gotCandidate = try await laptop.next("rtc")
            #expect((gotCandidate["candidate"] as? [String: Any])?["sdpMid"] as? String == "0")

            // Refused, each with its id, nothing passed on: a device not in the call, from one not
            // in it, an unknown call, both payloads, an SDP over the limit, too many candidates.
            let refusals: [(TestSocket, [String: Any], String)] = [
                (
                    mumSocket, ["type": "rtc", "id": "a", "call": "call-0001", "to": phoneDevice, "sdp": offer],
                    "not_in_call"
                ),
                (
                    phone, ["type": "rtc", "id": "b", "call": "call-0001", "to": mumDevice, "sdp": offer],
                    "unknown_call"
                ),
                (
                    mumSocket, ["type": "rtc", "id": "c", "call": "no-such-call", "to": laptopDevice, "sdp": offer],
                    "unknown_call"
                ),
                (
                    mumSocket,
                    [
                        "type": "rtc", "id": "d", "call": "call-0001", "to": laptopDevice, "sdp": offer,
                        "candidate": candidate,
                    ],
                    "invalid_field"
                ),
                (
                    mumSocket,
                    [
                        "type": "rtc", "id": "e", "call": "call-0001", "to": laptopDevice,
                        "sdp": ["type": "offer", "sdp": String(repeating: "a", count: 20_000)],
                    ], "too_large"
                ),
                (mumSocket, ["type": "call", "id": "f", "call": "call-0001", "action": "shout"], "invalid_field"),
                (mumSocket, ["type": "call", "id": "g", "call": "x", "action": "ring", "room": room], "invalid_field"),
            ]
            for (socket, frame, code) in refusals {
                try await socket.send(frame)
                let error = try await socket.next("error", timeout: 5)
                #expect(
                    error["id"] as? String == frame["id"] as? String && error["code"] as? String == code, "\(error)")
            }
            var limited = 0
            for n in 0..<60 {
                try await mumSocket.send(
                    ["type": "rtc", "id": "c\(n)", "call": "call-0001", "to": laptopDevice, "candidate": candidate])
            }
            // Every one of the 60 is either relayed or refused; a loaded machine may take a while
            // to deliver them all, so wait for the count rather than for a pause between frames.
            var passed = 0
            let deadline = Date().addingTimeInterval(30)
            while passed + limited < 60, Date() < deadline {
                if (try? await laptop.next("rtc", timeout: 0.1)) != nil {
                    passed += 1
                } else if let error = try? await mumSocket.next("error", timeout: 0.1),
                    error["code"] as? String == "rate_limited"
                {
                    limited += 1
                }
            }
            // Nothing beyond the 60.
            if (try? await laptop.next("rtc", timeout: 0.5)) != nil { passed += 1 }
            #expect(limited >= 9 && passed + limited == 60, "\(passed) passed, \(limited) refused")
            #expect(phone.pending.allSatisfy { !$0.contains("\"rtc\"") })

            // Mum hangs up: dad's laptop is told, and the call leaves its line in the chat.
            try await mumSocket.send(Self.call("hangup", "call-0001"))
            let hangup = try await laptop.next("call")
            #expect(hangup["action"] as? String == "hangup" && hangup["reason"] as? String == "ended")
            for socket in [mumSocket, phone, laptop] {
                let line = try await socket.next("message")
                #expect(line["system"] as? Bool == true && (line["body"] as? String ?? "").hasPrefix("Video call, "))
            }
            #expect(try await family.env.services.calls.endedToday() == 1)
            for socket in [mumSocket, phone, laptop] { await socket.close() }
        }
    }

    @Test func aRingNobodyAnswersIsMissedAndADeclineEndsIt() async throws {
        try await withLiveApp({ configuration in
            configuration.calls.ringTimeout = 0.5
        }) { family in
            let mum = try await family.signIn("mum")
            let dad = try await family.signIn("dad")
            let room = try await family.directRoom("mum", "dad")
            let mumSocket = try await family.socket(mum)
            let dadSocket = try await family.socket(dad)

            try await mumSocket.send(Self.call("ring", "call-missed", room: room))
            #expect(try await dadSocket.next("call")["action"] as? String == "ring")
            let stop = try await dadSocket.next("call", timeout: 5)
            #expect(stop["action"] as? String == "hangup" && stop["reason"] as? String == "timeout")
            #expect(try await dadSocket.next("message")["body"] as? String == "Missed voice call")
            // Stored like a message: history has it.
            let history = try await family.call("GET", "/api/v1/rooms/\(room)/messages", token: dad)
            let stored = (history.json["messages"] as? [[String: Any]])?.first
            #expect(stored?["body"] as? String == "Missed voice call" && stored?["system"] as? Bool == true)

            try await mumSocket.send(Self.call("ring", "call-declined", room: room, video: true))
            #expect(try await dadSocket.next("call")["action"] as? String == "ring")
            try await dadSocket.send(Self.call("decline", "call-declined"))
            var frame = try await mumSocket.next("call")
            while frame["action"] as? String == "ringing" || frame["call"] as? String == "call-missed" {
                frame = try await mumSocket.next("call")
            }
            #expect(frame["action"] as? String == "decline")
            #expect(try await mumSocket.next("call")["reason"] as? String == "declined")
            var line = try await dadSocket.next("message")
            #expect(line["body"] as? String == "Declined video call")

            // The caller gives up before anyone answers: missed too.
            try await mumSocket.send(Self.call("ring", "call-cancel", room: room))
            #expect(try await dadSocket.next("call")["action"] as? String == "ring")
            try await mumSocket.send(Self.call("hangup", "call-cancel"))
            let cancelled = try await dadSocket.next("call")
            #expect(cancelled["action"] as? String == "hangup" && cancelled["reason"] as? String == "cancelled")
            line = try await dadSocket.next("message")
            #expect(line["body"] as? String == "Missed voice call")
            await mumSocket.close()
            await dadSocket.close()
        }
    }

    @Test func aSecondRingJoinsAGroupCallOrIsBusy() async throws {
        try await withLiveApp { family in
            let mum = try await family.signIn("mum")
            let dad = try await family.signIn("dad")
            let kid = try await family.signIn("kid")
            let gran = try await family.signIn("gran")
            let group = try await family.group("Family", owner: "mum", members: ["dad", "kid"])
            let direct = try await family.directRoom("mum", "dad")
            let outsider = try await family.directRoom("gran", "kid")
            let sockets = [
                try await family.socket(mum), try await family.socket(dad), try await family.socket(kid),
                try await family.socket(gran),
            ]
            let (mumSocket, dadSocket, kidSocket, granSocket) = (sockets[0], sockets[1], sockets[2], sockets[3])

            try await mumSocket.send(Self.call("ring", "group-call", room: group, video: true))
            #expect(try await dadSocket.next("call")["action"] as? String == "ring")
            #expect(try await kidSocket.next("call")["action"] as? String == "ring")
            try await dadSocket.send(Self.call("accept", "group-call"))
            #expect(try await dadSocket.next("call")["action"] as? String == "joined")
            // The kid rings the same group: they join the call that is on, under its id.
            try await kidSocket.send(Self.call("ring", "kid-call-1", room: group, video: true))
            var joined = try await kidSocket.next("call")
            while joined["action"] as? String != "joined" { joined = try await kidSocket.next("call") }
            #expect(joined["call"] as? String == "group-call")
            #expect((joined["participants"] as? [[String: Any]])?.count == 2)
            #expect(try await mumSocket.next("call")["action"] as? String == "ringing")

            // A direct chat's second call while one is on: busy.
            try await mumSocket.send(Self.call("ring", "direct-1", room: direct))
            var ring = try await dadSocket.next("call")
            while ring["call"] as? String != "direct-1" { ring = try await dadSocket.next("call") }
            #expect(ring["action"] as? String == "ring")
            try await dadSocket.send(Self.call("ring", "direct-2", room: direct))
            var busy = try await dadSocket.next("call")
            while busy["call"] as? String != "direct-2" { busy = try await dadSocket.next("call") }
            #expect(busy["action"] as? String == "busy")

            // Gran may not ring a room she is not in; a muted kid may not ring at all.
            try await granSocket.send(Self.call("ring", "gran-call", room: group, id: "g"))
            #expect(try await granSocket.next("error")["code"] as? String == "room_not_found")
            _ = try await family.env.services.moderation.mute(
                username: "kid", for: 600, reason: nil, by: .cli, role: .admin)
            try await kidSocket.send(Self.call("ring", "kid-call-2", room: outsider, id: "k"))
            let muted = try await kidSocket.next("error")
            #expect(muted["code"] as? String == "muted" && muted["id"] as? String == "k")
            for socket in sockets { await socket.close() }
        }
    }

    @Test func turnCredentialsMatchAnHMACComputedElsewhere() async throws {
        let secret = "shared-with-coturn-\(UUID().uuidString)"
        try await withLiveApp({ configuration in
            configuration.calls.turnURIs = ["turn:127.0.0.1:3478", "turn:127.0.0.1:3478?transport=tcp"]
            configuration.calls.turnSecret = secret
            configuration.calls.turnCredentialLifetime = 3600
        }) { family in
            let mum = try await family.signIn("mum")
            let answer = try await family.call("GET", "/api/v1/calls/ice", token: mum)
            #expect(answer.status == 200 && answer.json["ttl"] as? Int == 3600)
            let server = try #require((answer.json["iceServers"] as? [[String: Any]])?.first)
            #expect(server["urls"] as? [String] == ["turn:127.0.0.1:3478", "turn:127.0.0.1:3478?transport=tcp"])
            let username = try #require(server["username"] as? String)
            let parts = username.split(separator: ":")
            let user = try await family.env.accounts.user(named: "mum")
            #expect(parts.count == 2 && Int64(parts[1]) == user.id)
            let expiry = try #require(Double(parts[0]))
            #expect(abs(expiry - family.env.services.now().timeIntervalSince1970 - 3600) < 30)
            // The reference: openssl's HMAC-SHA1, base64, as coturn checks it.
            let openssl = Process()
            openssl.executableURL = URL(fileURLWithPath: "/bin/sh")
            openssl.arguments = [
                "-c", "printf %s \"$1\" | openssl dgst -sha1 -hmac \"$2\" -binary | base64", "sh", username, secret,
            ]
            let out = Pipe()
            openssl.standardOutput = out
            try openssl.run()
            openssl.waitUntilExit()
            let reference = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
                .trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(server["credential"] as? String == reference && !reference.isEmpty)
        }
        // Without TURN: nothing beyond the browser's defaults.
        try await withLiveApp { family in
            let mum = try await family.signIn("mum")
            let answer = try await family.call("GET", "/api/v1/calls/ice", token: mum)
            #expect((answer.json["iceServers"] as? [Any])?.isEmpty == true && answer.json["ttl"] as? Int == 0)
        }
    }

    @Test func aRingReachesADeviceWithoutASocketByPushAndOneThatOpensLater() async throws {
        try await withLiveApp { family in
            let mum = try await family.signIn("mum")
            let dadPhone = try await family.signIn("dad", device: "phone")
            let room = try await family.directRoom("mum", "dad")
            let dad = try await family.env.accounts.user(named: "dad")
            let phone = try await family.env.sessions.authenticate(token: dadPhone, client: TestServices.home)
            _ = try await family.env.services.push.subscribe(
                phone, endpoint: "https://push.example.net/wpush/dad",
                p256dh: "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4",
                auth: "BTBZMqHH6r4Tts7J_aSIgg")
            let mumSocket = try await family.socket(mum)
            try await mumSocket.send(Self.call("ring", "call-pushed", room: room, video: true))
            let ringing = try await mumSocket.next("call")
            #expect(ringing["action"] as? String == "ringing" && ringing["devices"] as? Int == 0)

            // The phone has no socket: its ring is a push, urgent, for as long as the ring lasts.
            let now = Int64(family.env.services.now().timeIntervalSince1970 * 1000)
            let queued = try await family.env.services.database.read { try $0.duePushes(now: now, limit: 10) }
            let push = try #require(queued.first)
            #expect(queued.count == 1 && push.kind == .call && push.urgency == "high" && push.topic == "call-\(room)")
            #expect(push.expiresAt - push.createdAt <= 45_000)
            let payload = try await family.env.services.database.read { store in
                try PushPayload.compose(
                    push, for: PushPayload.Reader(userID: dad.id, store: store), store: store, serverPreview: .full,
                    now: family.env.services.now())
            }
            #expect(payload?.title == "mum is calling" && payload?.body == "Video call")

            // The app opens from the notification: its new socket rings too, and it can answer.
            let opened = try await family.socket(dadPhone)
            let ring = try await opened.next("call")
            #expect(ring["action"] as? String == "ring" && ring["call"] as? String == "call-pushed")
            try await opened.send(Self.call("accept", "call-pushed"))
            #expect(try await opened.next("call")["action"] as? String == "joined")
            await mumSocket.close()
            await opened.close()
        }
    }
}

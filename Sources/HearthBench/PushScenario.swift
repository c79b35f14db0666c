import ArgumentParser
import Crypto
import Foundation
import Histogram
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization
import WebPush

/// `HearthBench push`: Web Push beside the relay. Half the users are online (a socket each), the
/// other half offline with push subscriptions to a push service on loopback that this command
/// runs (it answers `201` and notes when each push arrives). Each online user has a direct room
/// with an online neighbour and one with an offline one. Three phases at the same rate, on one
/// server: messages only to online recipients (today's `pm`), only to offline ones (every
/// message a push), and half and half. Each reports the server's CPU per delivery, a delivery
/// being a message written to a recipient's socket or a push the push service took.
struct PushScenario: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "push",
        abstract:
            "Web Push to a local push service beside live messages: pushes/s, server CPU per push and per delivery.")

    @OptionGroup var options: BenchOptions
    @Option(help: "Users: half online, half offline and subscribed.") var users = 1000
    @Option(help: "Subscriptions per offline user (at most 10 per device; more sign in more devices).")
    var subscriptions = 1
    @Option(help: "Messages per second, all online users together.") var rate = 1000
    @Option(help: "Seconds each phase sends for.") var seconds = 10.0
    @Flag(help: "Only time what one push costs in this process: encryption (RFC 8291) and a VAPID signature.")
    var cryptoOnly = false

    func run() async throws {
        if cryptoOnly { return try Self.timeCrypto() }
        guard users >= 4, users % 2 == 0 else { throw ValidationError("give an even number of users, at least 4") }
        let service = try LocalReceiver(status: .created) { head, _ in
            head.headers.first(name: "Topic").flatMap { Int64($0.dropFirst("room-".count)) }
        }
        defer { service.stop() }
        let server = try BenchServer.forLoad(
            binary: options.binary,
            environment: [
                "HEARTH_MESSAGES_PER_MINUTE": "10000000", "HEARTH_FRAMES_PER_SECOND": "1000000",
                "HEARTH_PUSH_ALLOW_HTTP": "true", "HEARTH_PUSH_QUEUE_MAX": "1000000",
                "HEARTH_DEVICES_PER_USER": "100",
            ],
            arguments: ["--hash-threads", "2"])
        defer { server.stop() }
        let half = users / 2
        print("Setting up \(users) users, \(half * subscriptions) subscriptions, \(users) direct rooms…")
        let tokens = try await server.registerUsers(users, prefix: "push")
        // Every offline user's subscriptions point at the local service; one key pair serves all
        // (the server encrypts each push anew either way).
        let key = P256.KeyAgreement.PrivateKey()
        let p256dh = Base64URL.encode(key.publicKey.x963Representation)
        let auth = Base64URL.encode(Data((0..<16).map { _ in UInt8.random(in: 0...255) }))
        let rssBefore = server.rssMiB()
        for user in half..<users {
            var token = tokens[user]
            for n in 0..<subscriptions {
                if n > 0, n % 10 == 0 {
                    let answer = try await server.postJSON(
                        "/api/v1/login", ["username": "push\(user)", "password": "benchmark family password"],
                        expect: [200])
                    token = answer["token"] as? String ?? ""
                }
                _ = try await server.postJSON(
                    "/api/v1/push/subscriptions",
                    ["endpoint": "\(service.url)/push/\(user)/\(n)", "keys": ["p256dh": p256dh, "auth": auth]],
                    token: token, expect: [201])
            }
        }
        let rssSubscribed = server.rssMiB()
        // rooms[user] = (online neighbour's room, offline neighbour's room)
        var rooms: [(online: Int64, offline: Int64)] = []
        for user in 0..<half {
            let online = try await server.postJSON(
                "/api/v1/rooms", ["members": ["push\((user + 1) % half)"], "direct": true], token: tokens[user],
                expect: [200, 201])
            let offline = try await server.postJSON(
                "/api/v1/rooms", ["members": ["push\(half + user)"], "direct": true], token: tokens[user],
                expect: [200, 201])
            rooms.append((Self.roomID(online), Self.roomID(offline)))
        }
        let delivered = Atomic<Int>(0)
        var sockets: [BenchSocket] = []
        for user in 0..<half {
            sockets.append(
                try await BenchSocket.connect(url: server.webSocketURL, token: tokens[user]) { frame in
                    if frame.contains("\"type\":\"message\"") { delivered.add(1, ordering: .relaxed) }
                })
        }
        try await Task.sleep(for: .seconds(1))

        print(
            "phase                 sent  socket/s  pushes/s  push_p50  push_p99 (ms)  server_cpu (cores)  µs/delivery")
        var results: [[String: Double]] = []
        for (name, share) in [("online only (pm)", 0.0), ("offline only (push)", 1.0), ("half and half", 0.5)] {
            // (`share` of the messages go to offline recipients: 0, all, or every other one.)
            let (cpu0, pushed0, delivered0) = (server.cpuSeconds(), service.count, delivered.load(ordering: .relaxed))
            service.resetLatencies()
            let total = Int(Double(rate) * seconds)
            let start = DispatchTime.now().uptimeNanoseconds
            await paced(count: total, every: 1e9 / Double(rate), from: start) { n in
                let (round, user) = n.quotientAndRemainder(dividingBy: half)
                // Each user's messages go to the offline room always, every other time, or never.
                let offline = share >= 1 || (share > 0 && round % 2 == 0)
                let room = offline ? rooms[user].offline : rooms[user].online
                if offline { service.sent(key: room) }
                try? await sockets[user].send(
                    "{\"type\":\"send\",\"id\":\"\(name.prefix(3))-\(n)\",\"room\":\(room),\"body\":\"message \(n)\"}")
            }
            let sendSeconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            // Let the queue drain: until no push arrives for a second (at most 30 s).
            var last = service.count
            for _ in 0..<30 {
                try await Task.sleep(for: .seconds(1))
                if service.count == last { break }
                last = service.count
            }
            let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            let pushes = service.count - pushed0
            let socketDeliveries = delivered.load(ordering: .relaxed) - delivered0
            let cpu = server.cpuSeconds() - cpu0
            let latency = service.latencies()
            let row: [String: Double] = [
                "sent": Double(total), "socket_per_s": Double(socketDeliveries) / sendSeconds,
                "pushes_per_s": Double(pushes) / sendSeconds, "pushes": Double(pushes),
                "push_ms_p50": latency.p50, "push_ms_p99": latency.p99, "server_cpu_cores": cpu / elapsed,
                "us_per_delivery": cpu * 1e6 / Double(max(1, socketDeliveries + pushes)),
            ]
            results.append(row)
            print(
                String(
                    format: "%@ %6.0f %9.0f %9.0f %9.1f %9.1f %19.2f %12.1f",
                    name.padding(toLength: 20, withPad: " ", startingAt: 0), row["sent"]!,
                    row["socket_per_s"]!, row["pushes_per_s"]!, row["push_ms_p50"]!, row["push_ms_p99"]!,
                    row["server_cpu_cores"]!, row["us_per_delivery"]!))
        }
        print(
            String(
                format: "Server RSS: %.1f MiB before the subscriptions, %.1f with %d, %.1f at the end",
                rssBefore, rssSubscribed, half * subscriptions, server.rssMiB()))
        try options.save([
            "users": users, "subscriptions": half * subscriptions, "rate": rate, "phases": results,
            "rss_mib_before": rssBefore, "rss_mib_subscribed": rssSubscribed,
        ])
        for socket in sockets { await socket.close() }
    }

    /// Microseconds per encryption of a typical payload, and per VAPID signature, on one core.
    static func timeCrypto() throws {
        let browser = P256.KeyAgreement.PrivateKey()
        let keys = try PushSubscriberKeys(
            p256dh: Base64URL.encode(browser.publicKey.x963Representation), auth: Base64URL.encode(Data(count: 16)))
        let payload = Data(
            #"{"badge":1,"body":"Dinner at 7?","kind":"message","room":12,"seq":1043,"silent":false,"tag":"room-12","title":"mum","unread":{"12":1},"url":"/#room=12"}"#
                .utf8)
        let vapid = VAPIDKey()
        let endpoint = URL(string: "https://push.example.net/wpush/v2/abc")!
        func time(_ count: Int, _ body: () throws -> Void) rethrows -> Double {
            let start = DispatchTime.now().uptimeNanoseconds
            for _ in 0..<count { try body() }
            return Double(DispatchTime.now().uptimeNanoseconds - start) / 1000 / Double(count)
        }
        let encrypt = try time(5000) { _ = try PushEncryption.encrypt(payload, to: keys) }
        // Its parts: the fresh key pair, the key agreement, and the rest (HKDF, AES-GCM, framing).
        let pair = time(5000) { _ = PushEncryption.ephemeralKey().publicKey.x963Representation }
        let server = P256.KeyAgreement.PrivateKey()
        let agree = try time(5000) { _ = try server.sharedSecretFromKeyAgreement(with: keys.publicKey) }
        let parse = try time(5000) { _ = try PushSubscriberKeys(p256dh: keys.p256dh, auth: keys.auth) }
        let sign = try time(5000) {
            _ = try vapid.authorization(for: endpoint, subject: "mailto:a@b", expiresAt: Date())
        }
        print(
            String(
                format: "encrypt one push: %.1f µs (a key pair %.1f, the key agreement %.1f, the rest %.1f); "
                    + "read a subscription's keys: %.1f µs; sign one VAPID header: %.1f µs",
                encrypt, pair, agree, encrypt - pair - agree, parse, sign))
    }

    static func roomID(_ answer: [String: Any]) -> Int64 {
        ((answer["room"] as? [String: Any])?["id"] as? NSNumber)?.int64Value ?? 0
    }

}

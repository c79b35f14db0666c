import Foundation
import HTTPTypes
import HearthTestSupport
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import Services
import Synchronization
import Testing

@testable import Web

@Suite struct RoomsRoutesTests {
    func token(_ env: TestServices, _ username: String) async throws -> String {
        if (try? await env.accounts.user(named: username)) == nil {
            _ = try await env.accounts.createUser(username: username, password: TestServices.password, role: .member)
        }
        return try await env.sessions.login(
            username: username, password: TestServices.password, deviceName: nil, client: TestServices.home
        ).token
    }

    @Test func directRoomsAreOnePerPair() async throws {
        try await withApp { api, env in
            let mum = try await token(env, "mum")
            let dad = try await token(env, "dad")
            let created = try await api.send(
                .post, "/api/v1/rooms", json: ["members": ["dad"], "direct": true], token: mum)
            #expect(created.status == .created)
            let room = try #require(created.json["room"] as? [String: Any])
            #expect(room["kind"] as? String == "direct")
            #expect((room["members"] as? [[String: Any]])?.compactMap { $0["username"] as? String } == ["dad", "mum"])
            let again = try await api.send(
                .post, "/api/v1/rooms", json: ["members": ["mum"], "direct": true], token: dad)
            #expect(again.status == .ok)
            #expect((again.json["room"] as? [String: Any])?["id"] as? Int == room["id"] as? Int)

            let twoOthers = try await api.send(
                .post, "/api/v1/rooms", json: ["members": ["dad", "kid"], "direct": true], token: mum)
            #expect(twoOthers.errorCode == "invalid_room" || twoOthers.errorCode == "not_found")
            let nobody = try await api.send(
                .post, "/api/v1/rooms", json: ["members": ["ghost"], "direct": true], token: mum)
            #expect(nobody.status == .notFound)
            let unauthenticated = try await api.send(
                .post, "/api/v1/rooms", json: ["members": ["dad"], "direct": true])
            #expect(unauthenticated.status == .unauthorized)
        }
    }

    @Test func groupsTheirMembersAndHistory() async throws {
        try await withApp { api, env in
            let mum = try await token(env, "mum")
            let kid = try await token(env, "kid")
            _ = try await token(env, "dad")
            _ = try await token(env, "gran")
            let created = try await api.send(
                .post, "/api/v1/rooms", json: ["name": "Family", "members": ["kid", "dad"]], token: mum)
            #expect(created.status == .created)
            let id = try #require((created.json["room"] as? [String: Any])?["id"] as? Int)

            // Only the owner (or an admin) adds members.
            let byKid = try await api.send(.post, "/api/v1/rooms/\(id)/members", json: ["username": "gran"], token: kid)
            #expect(byKid.status == .forbidden)
            let byMum = try await api.send(.post, "/api/v1/rooms/\(id)/members", json: ["username": "gran"], token: mum)
            #expect(byMum.status == .ok)
            #expect(((byMum.json["room"] as? [String: Any])?["members"] as? [Any])?.count == 4)

            // Adding gran wrote a line into the timeline.
            let line = try await api.send(.get, "/api/v1/rooms/\(id)/messages", token: kid)
            let added = try #require((line.json["messages"] as? [[String: Any]])?.first)
            #expect(added["body"] as? String == "mum added gran" && added["system"] as? Bool == true)
            let base = try #require(added["seq"] as? Int)

            // History: newest first, paged with before/limit.
            let user = try await env.accounts.user(named: "mum")
            let device = try await env.sessions.authenticate(token: mum, client: .commandLine).device
            for index in 1...5 {
                _ = try await env.services.database.write { store in
                    try store.insertMessage(
                        seq: Int64(base + index), roomID: Int64(id), senderID: user.id, deviceID: device.id,
                        clientID: "c\(index)", body: "message \(index)", now: Int64(index))
                }
            }
            let page = try await api.send(.get, "/api/v1/rooms/\(id)/messages?limit=2", token: kid)
            let seqs = (page.json["messages"] as? [[String: Any]])?.compactMap { $0["seq"] as? Int }
            #expect(seqs == [base + 5, base + 4])
            let older = try await api.send(
                .get, "/api/v1/rooms/\(id)/messages?before=\(base + 4)&limit=10", token: kid)
            #expect(
                (older.json["messages"] as? [[String: Any]])?.compactMap { $0["seq"] as? Int }
                    == [base + 3, base + 2, base + 1, base])
            let badLimit = try await api.send(.get, "/api/v1/rooms/\(id)/messages?limit=lots", token: kid)
            #expect(badLimit.errorCode == "invalid_field")

            // The room list shows the last message and unread count.
            let list = try await api.send(.get, "/api/v1/rooms", token: kid)
            let first = try #require((list.json["rooms"] as? [[String: Any]])?.first)
            #expect(first["unread"] as? Int == 6)
            #expect((first["lastMessage"] as? [String: Any])?["body"] as? String == "message 5")

            // A removed member cannot read the room any more.
            let removed = try await api.send(.delete, "/api/v1/rooms/\(id)/members/kid", token: mum)
            #expect(removed.status == .ok)
            let after = try await api.send(.get, "/api/v1/rooms/\(id)/messages", token: kid)
            #expect(after.status == .notFound)
            #expect(after.errorCode == "room_not_found")
            // Strangers learn nothing about the room.
            let stranger = try await token(env, "stranger")
            #expect(try await api.send(.get, "/api/v1/rooms/\(id)", token: stranger).status == .notFound)
        }
    }

    @Test func roomLimitsAreSettings() async throws {
        try await withApp({ configuration in
            configuration.relay.membersPerRoom = 2
            configuration.relay.roomsPerUser = 1
        }) { api, env in
            let mum = try await token(env, "mum")
            _ = try await token(env, "dad")
            _ = try await token(env, "kid")
            let tooMany = try await api.send(
                .post, "/api/v1/rooms", json: ["name": "All", "members": ["dad", "kid"]], token: mum)
            #expect(tooMany.errorCode == "too_many_members")
            #expect(
                try await api.send(.post, "/api/v1/rooms", json: ["name": "Two", "members": ["dad"]], token: mum).status
                    == .created)
            let second = try await api.send(
                .post, "/api/v1/rooms", json: ["members": ["kid"], "direct": true], token: mum)
            #expect(second.errorCode == "too_many_rooms")
            let unnamed = try await api.send(.post, "/api/v1/rooms", json: ["name": " ", "members": []], token: mum)
            #expect(unnamed.errorCode == "invalid_room")
        }
    }

    @Test func gracefulShutdownClosesSocketsWith1001() async throws {
        let (env, hub) = try servicesWithHub()
        defer { env.remove() }
        let portBox = Mutex<Int?>(nil)
        let services = env.services
        var server = ServerConfiguration()
        server.host = "127.0.0.1"
        server.port = 0
        let app = HearthApp(services: services, hub: hub, server: server)
        let group = try app.serviceGroup(logger: Logger(label: "test"), signals: []) {
            channel in
            portBox.withLock { $0 = channel.localAddress?.port }
        }
        let running = Task { try await group.run() }
        var port: Int?
        for _ in 0..<3000 where port == nil {
            try await Task.sleep(for: .milliseconds(10))
            port = portBox.withLock { $0 }
        }
        let token = try await token(env, "mum")
        let socket = try await TestSocket(port: try #require(port), token: token)
        try await socket.send(["type": "ping", "id": "before"])
        _ = try await socket.next("pong")
        await group.triggerGracefulShutdown()
        #expect(try await socket.closeCode() == 1001)
        try await running.value
    }
}

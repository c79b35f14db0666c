import Foundation
import HearthTestSupport
import Services
import Storage
import Testing

@testable import Web

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// `PATCH /api/v1/me`: a display name and an avatar, shown to everyone who shares a room, live.
@Suite struct ProfileTests {
    static let png = AttachmentTests.png

    func uploadID(_ family: Family, _ data: Data, type: String = "image/png", token: String) async throws -> String {
        let result = try await family.upload(data, type: type, token: token)
        return try #require((result.json["attachment"] as? [String: Any])?["id"] as? String, "\(result.json)")
    }

    @Test func aNameAndAFaceReachEveryoneWhoSharesARoom() async throws {
        try await withLiveApp { family in
            let mum = try await family.signIn("mum")
            let dad = try await family.signIn("dad")
            let stranger = try await family.signIn("stranger")
            let room = try await family.directRoom("mum", "dad")
            let dadSocket = try await family.socket(dad)
            let strangerSocket = try await family.socket(stranger)

            let named = try await family.call("PATCH", "/api/v1/me", json: ["displayName": "  Mum 🌷 "], token: mum)
            #expect(named.status == 200)
            let user = try #require(named.json["user"] as? [String: Any])
            #expect(user["displayName"] as? String == "Mum 🌷" && user["username"] as? String == "mum")
            #expect(user["avatar"] is NSNull)
            let frame = try await dadSocket.next("profile")
            let profile = try #require(frame["user"] as? [String: Any])
            #expect(profile["username"] as? String == "mum" && profile["displayName"] as? String == "Mum 🌷")

            // An avatar: one of her own uploaded images.
            let avatar = try await uploadID(family, Self.png, token: mum)
            let chosen = try await family.call("PATCH", "/api/v1/me", json: ["avatar": avatar], token: mum)
            #expect((chosen.json["user"] as? [String: Any])?["avatar"] as? String == avatar)
            #expect((chosen.json["user"] as? [String: Any])?["displayName"] as? String == "Mum 🌷")
            #expect(((try await dadSocket.next("profile"))["user"] as? [String: Any])?["avatar"] as? String == avatar)

            // Shown with her in the room's members, and in /me.
            let rooms = try await family.call("GET", "/api/v1/rooms", token: dad)
            let members = (rooms.json["rooms"] as? [[String: Any]])?.first?["members"] as? [[String: Any]] ?? []
            let listed = try #require(members.first { $0["username"] as? String == "mum" })
            #expect(listed["displayName"] as? String == "Mum 🌷" && listed["avatar"] as? String == avatar)
            #expect(members.first { $0["username"] as? String == "dad" }?["displayName"] is NSNull)
            let me = try await family.call("GET", "/api/v1/me", token: mum)
            #expect((me.json["user"] as? [String: Any])?["displayName"] as? String == "Mum 🌷")

            // Anyone signed in may fetch the avatar (the stranger shares no room: no frame for them);
            // nobody signed out may, and no other upload is served as one.
            let image = try await family.http(
                "GET", "/api/v1/avatars/\(avatar)", headers: ["Authorization": "Bearer \(stranger)"])
            #expect(image.status == 200)
            #expect(try await family.http("GET", "/api/v1/avatars/\(avatar)").status == 401)
            let other = try await uploadID(family, Self.png, token: mum)
            #expect(
                try await family.http("GET", "/api/v1/avatars/\(other)", headers: ["Authorization": "Bearer \(dad)"])
                    .status == 404)
            // An avatar cannot be shared in a message, nor swept as an unshared upload.
            let mumSocket = try await family.socket(mum)
            try await mumSocket.send(["type": "send", "id": "a1", "room": room, "body": "", "attachments": [avatar]])
            #expect(try await mumSocket.next("error")["code"] as? String == "not_found")
            family.env.clock.advance(25 * 3600)
            #expect(try await family.env.services.attachments.removeOrphans() == 1)  // `other`, not the avatar
            #expect(
                try await family.http("GET", "/api/v1/avatars/\(avatar)", headers: ["Authorization": "Bearer \(dad)"])
                    .status == 200)

            // A new avatar replaces the old, which is deleted; null clears it, and the name too.
            let second = try await uploadID(family, Self.png, token: mum)
            _ = try await family.call("PATCH", "/api/v1/me", json: ["avatar": second], token: mum)
            #expect(try await family.env.services.database.read { try $0.attachment(publicID: avatar) } == nil)
            let cleared = try await family.call(
                "PATCH", "/api/v1/me", json: ["avatar": NSNull(), "displayName": ""], token: mum)
            let now = try #require(cleared.json["user"] as? [String: Any])
            #expect(now["avatar"] is NSNull && now["displayName"] is NSNull)
            #expect(try await family.env.services.database.read { try $0.attachment(publicID: second) } == nil)
            try await Task.sleep(for: .milliseconds(200))
            #expect(!strangerSocket.pending.contains { $0.contains("\"profile\"") })
            await dadSocket.close()
            await strangerSocket.close()
            await mumSocket.close()
        }
    }

    @Test func badProfilesAreRefusedAndChangeNothing() async throws {
        try await withLiveApp({ configuration in
            configuration.limits.avatarMaxBytes = 1_000
        }) { family in
            let mum = try await family.signIn("mum")
            let dad = try await family.signIn("dad")
            _ = try await family.call("PATCH", "/api/v1/me", json: ["displayName": "Mum"], token: mum)
            let text = try await uploadID(family, Data("not a picture\n".utf8), type: "text/plain", token: mum)
            let big = try await uploadID(family, Self.png, token: mum)  // the QR code PNG is over 1,000 bytes
            let dads = try await uploadID(family, Self.png, token: dad)
            let cases: [([String: Any], Int, String, String)] = [
                ([:], 400, "invalid_field", "Give displayName"),
                (["displayName": String(repeating: "a", count: 65)], 400, "invalid_field", "at most 64 characters"),
                (["displayName": "Mum\nDad"], 400, "invalid_field", "one line"),
                (["displayName": 7], 400, "invalid_field", ""),
                (["avatar": text], 400, "invalid_field", "An avatar must be a photo or picture"),
                (["avatar": big], 400, "invalid_field", "too large for an avatar"),
                (["avatar": dads], 404, "not_found", ""),
                (["avatar": "nosuchid"], 404, "not_found", ""),
            ]
            for (body, status, code, words) in cases {
                let answer = try await family.call("PATCH", "/api/v1/me", json: body, token: mum)
                let error = answer.json["error"] as? [String: Any]
                #expect(answer.status == status && error?["code"] as? String == code, "\(body)")
                #expect((error?["message"] as? String ?? "").contains(words), "\(body): \(String(describing: error))")
            }
            let me = try await family.call("GET", "/api/v1/me", token: mum)
            let user = try #require(me.json["user"] as? [String: Any])
            #expect(user["displayName"] as? String == "Mum" && user["avatar"] is NSNull)
        }
    }
}

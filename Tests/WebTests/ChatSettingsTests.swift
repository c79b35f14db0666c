import Foundation
import HearthTestSupport
import Services
import Storage
import Testing

@testable import Web

/// `PATCH /api/v1/rooms/{id}/settings`: a member's own mute, pin and archive for a chat, synced
/// live to their other devices, shown in their room list only.
@Suite struct ChatSettingsTests {
    @Test func pinArchiveAndMuteReachEveryDeviceOfTheirs() async throws {
        try await withLiveApp { family in
            let phone = try await family.signIn("mum", device: "phone")
            let laptopToken = try await family.signIn("mum", device: "laptop")
            let laptop = try await family.socket(laptopToken)
            let dadToken = try await family.signIn("dad")
            let room = try await family.directRoom("mum", "dad")

            let pinned = try await family.call(
                "PATCH", "/api/v1/rooms/\(room)/settings", json: ["pinned": true], token: phone)
            #expect(pinned.status == 200)
            let settings = try #require(pinned.json["settings"] as? [String: Any])
            #expect(settings["pinned"] as? Bool == true && settings["archived"] as? Bool == false)
            #expect(settings["mutedUntil"] is NSNull)
            // The laptop hears of it at once.
            let frame = try await laptop.next("settings")
            #expect(frame["room"] as? Int == Int(room))
            #expect((frame["settings"] as? [String: Any])?["pinned"] as? Bool == true)

            // Several at once; what is not given stays.
            let both = try await family.call(
                "PATCH", "/api/v1/rooms/\(room)/settings", json: ["archived": true, "mute": "8h"], token: phone)
            let now = try #require(both.json["settings"] as? [String: Any])
            #expect(now["pinned"] as? Bool == true && now["archived"] as? Bool == true)
            #expect((now["mutedUntil"] as? Int ?? 0) > Int(Date().timeIntervalSince1970 * 1000))
            _ = try await laptop.next("settings")

            // Mum's list shows hers; dad's shows his own (nothing set).
            let mine = try await family.call("GET", "/api/v1/rooms", token: laptopToken)
            let listed = (mine.json["rooms"] as? [[String: Any]])?.first?["settings"] as? [String: Any]
            #expect(listed?["pinned"] as? Bool == true && listed?["archived"] as? Bool == true)
            let his = try await family.call("GET", "/api/v1/rooms", token: dadToken)
            let theirs = (his.json["rooms"] as? [[String: Any]])?.first?["settings"] as? [String: Any]
            #expect(theirs?["pinned"] as? Bool == false && theirs?["archived"] as? Bool == false)

            // Bad input: a specific error, nothing changed.
            _ = try await family.signIn("kid")
            let other = try await family.directRoom("dad", "kid")
            for (body, path, status, code) in [
                ([:], "\(room)", 400, "invalid_field"), (["mute": "2h"], "\(room)", 400, "invalid_field"),
                (["pinned": "yes"], "\(room)", 400, "invalid_field"),
                (["pinned": false], "\(other)", 403, "not_a_member"),
                (["pinned": false], "99999", 404, "room_not_found"),
            ] as [([String: Any], String, Int, String)] {
                let answer = try await family.call(
                    "PATCH", "/api/v1/rooms/\(path)/settings", json: body, token: phone)
                #expect(answer.status == status, "\(body) \(path)")
                #expect((answer.json["error"] as? [String: Any])?["code"] as? String == code, "\(body) \(path)")
            }
            let after = try await family.call("GET", "/api/v1/rooms", token: phone)
            let kept = (after.json["rooms"] as? [[String: Any]])?.first?["settings"] as? [String: Any]
            #expect(kept?["pinned"] as? Bool == true)
        }
    }
}

import Foundation
import Storage
import Testing

@testable import Services

/// What a push says and when it may sound: quiet hours in the user's own time zone.
@Suite struct PushPayloadTests {
    /// 2026-12-05 22:30 UTC.
    static let evening = Date(timeIntervalSince1970: 1_796_509_800)

    @Test func quietHoursWrapPastMidnightInTheUsersTimeZone() {
        var preferences = PushPreferences(quietFrom: 22 * 60, quietTo: 7 * 60, quietMode: "silent", timeZone: "UTC")
        #expect(PushPayload.isQuiet(preferences, at: Self.evening))
        #expect(!PushPayload.isQuiet(preferences, at: Self.evening.addingTimeInterval(-3600)))  // 21:30
        #expect(PushPayload.isQuiet(preferences, at: Self.evening.addingTimeInterval(8 * 3600)))  // 06:30
        #expect(!PushPayload.isQuiet(preferences, at: Self.evening.addingTimeInterval(9 * 3600)))  // 07:30
        // 22:30 UTC is 17:30 in New York: not quiet there.
        preferences.timeZone = "America/New_York"
        #expect(!PushPayload.isQuiet(preferences, at: Self.evening))
        // A window within one day.
        preferences = PushPreferences(quietFrom: 13 * 60, quietTo: 14 * 60, quietMode: "off", timeZone: "UTC")
        #expect(PushPayload.isQuiet(preferences, at: Self.evening.addingTimeInterval(-9 * 3600)))  // 13:30
        #expect(!PushPayload.isQuiet(preferences, at: Self.evening))
        #expect(!PushPayload.isQuiet(PushPreferences(), at: Self.evening))
    }

    /// The hand-written JSON says what Foundation's encoder says, escapes and all.
    @Test func theJSONIsWhatJSONEncoderWrites() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        for payload in [
            PushPayload(
                kind: "message", room: 12, seq: 1043, title: "dad in “Family”", body: "Dinner \"at\" 7?\n\\ 🍝\t/",
                tag: "room-12", url: "/#room=12", silent: true, unread: ["12": 3], badge: 3,
                icon: "/api/v1/avatars/x3v-_9"),
            PushPayload(
                kind: "link", room: nil, seq: nil, title: "A new device wants to sign in", body: "Open Hearth",
                tag: "link", url: "/", silent: false, unread: [:], badge: 0),
        ] {
            #expect(
                String(decoding: payload.json(), as: UTF8.self)
                    == String(decoding: try encoder.encode(payload), as: UTF8.self))
        }
        // Several rooms: the same object (the order of a nested object's keys is not part of JSON).
        let rooms = PushPayload(
            kind: "mention", room: 9, seq: 1, title: "mum", body: "@dad", tag: "room-9", url: "/#room=9", silent: false,
            unread: ["9": 1, "12": 4, "100": 2], badge: 7)
        let ours = try JSONSerialization.jsonObject(with: rooms.json()) as? NSDictionary
        let theirs = try JSONSerialization.jsonObject(with: try encoder.encode(rooms)) as? NSDictionary
        #expect(ours == theirs && ours != nil)
    }

    @Test func aLongTextIsCutToFitOnePush() throws {
        var payload = PushPayload(
            kind: "message", room: 1, seq: 2, title: "mum", body: String(repeating: "ä", count: 5000), tag: "room-1",
            url: "/#room=1", silent: false, unread: ["1": 1], badge: 1)
        let data = try payload.encoded(limit: 3993)
        #expect(data.count <= 3993)
        let decoded = try JSONSerialization.jsonObject(with: data) as? [String: Any]
        #expect((decoded?["body"] as? String)?.hasSuffix("…") == true)
        payload.body = "short"
        #expect(try payload.encoded(limit: 3993).count < 300)
    }
}

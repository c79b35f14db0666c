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

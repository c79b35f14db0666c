import Foundation
import Storage
import Testing

@testable import Services

/// The hand-written frames must be exactly the JSON a parser reads back.
@Suite struct RelayFramesTests {
    static let awkward = "She said \"hi\" \\ then\nleft\t😀 \u{1}\u{1F} </script> ü"

    func parse(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    @Test func messageFramesEscapeEverything() throws {
        let message = Message(
            id: 7, seq: 42, roomID: 3, senderID: 9, senderName: "mum", body: Self.awkward, createdAt: 1_795_971_701_642)
        let frame = try parse(RelayFrames.message(message))
        #expect(frame["type"] as? String == "message")
        #expect(frame["body"] as? String == Self.awkward)
        #expect(frame["seq"] as? Int == 42 && frame["id"] as? Int == 7 && frame["room"] as? Int == 3)
        #expect(frame["ts"] as? Int == 1_795_971_701_642)
        #expect((frame["from"] as? [String: Any])?["username"] as? String == "mum")
        #expect((frame["attachments"] as? [Any])?.isEmpty == true)

        let orphan = Message(id: 1, seq: 1, roomID: 1, senderID: nil, senderName: nil, body: "x", createdAt: 1)
        let deleted = try parse(RelayFrames.message(orphan))
        #expect((deleted["from"] as? [String: Any])?["id"] is NSNull)
    }

    @Test func acksAndReceiptsRoundTrip() throws {
        let ack = try parse(RelayFrames.ack(id: Self.awkward, seq: 5, ts: 6))
        #expect(ack["type"] as? String == "ack" && ack["id"] as? String == Self.awkward && ack["seq"] as? Int == 5)
        let receipt = try parse(RelayFrames.receipt(room: 1, user: "dad", seq: 9, kind: "read"))
        #expect(receipt["type"] as? String == "receipt" && receipt["user"] as? String == "dad")
        #expect(receipt["kind"] as? String == "read" && receipt["seq"] as? Int == 9)
    }
}

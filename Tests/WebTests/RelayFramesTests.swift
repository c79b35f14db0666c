import Foundation
import HearthTestSupport
import Storage
import Testing

@testable import Web

/// The hand-written frames must be exactly the JSON a parser reads back.
@Suite struct RelayFramesTests {
    static let awkward = "She said \"hi\" \\ then\nleft\t😀 \u{1}\u{1F} </script> ü"

    func parse(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    @Test func messageFramesEscapeEverything() throws {
        let message = Message(
            id: 7, seq: 42, roomID: 3, senderID: 9, senderName: "mum", body: Self.awkward, createdAt: 1_795_971_701_642)
        let frame = try parse(MessageJSON.object(message))
        #expect(frame["type"] as? String == "message")
        #expect(frame["body"] as? String == Self.awkward)
        #expect(frame["seq"] as? Int == 42 && frame["id"] as? Int == 7 && frame["room"] as? Int == 3)
        #expect(frame["ts"] as? Int == 1_795_971_701_642)
        #expect((frame["from"] as? [String: Any])?["username"] as? String == "mum")
        #expect((frame["attachments"] as? [Any])?.isEmpty == true)

        let orphan = Message(id: 1, seq: 1, roomID: 1, senderID: nil, senderName: nil, body: "x", createdAt: 1)
        let deleted = try parse(MessageJSON.object(orphan))
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

/// The plain-frame reader must read exactly what `JSONDecoder` reads, or hand the frame over.
@Suite struct InboundReaderTests {
    static func decoded(_ text: String) -> RelayFrames.Inbound? {
        try? JSONDecoder().decode(RelayFrames.Inbound.self, from: Data(text.utf8))
    }

    @Test func readsTheCommonFramesItself() {
        let frames = [
            #"{"type":"send","id":"c-1","room":12,"body":"hello there"}"#,
            #"{"type":"send","id":"c-2","room":12,"body":"ü 😀 photos","attachments":["a1","b2"]}"#,
            #" { "type" : "sync" , "after" : 0 } "#,
            #"{"type":"read","room":-3,"seq":9223372036854775807}"#,
            #"{"type":"typing","room":4}"#,
            #"{"type":"ping","id":""}"#,
            #"{"attachments":[],"type":"send"}"#,
            #"{"type":"send","id":"c-3","room":12,"body":"Yes!","replyTo":1043}"#,
            #"{"type":"react","id":"r-1","room":12,"seq":1043,"emoji":"👍","on":true}"#,
            #"{"type":"react","id":"r-2","room":12,"seq":1043,"emoji":"❤️","on" : false }"#,
            #"{"type":"edit","id":"e-1","room":12,"seq":1043,"body":"Dinner at 8?"}"#,
        ]
        for frame in frames {
            let read = InboundReader.read(frame)
            #expect(read != nil, "\(frame)")
            #expect(read == Self.decoded(frame), "\(frame)")
        }
    }

    @Test func handsOverWhatItDoesNotRead() {
        let frames = [
            #"{"type":"send","body":"a \"quote\""}"#, #"{"type":"send","body":"tab\u0009"}"#,
            #"{"type":"send","room":1.0}"#, #"{"type":"send","room":1e3}"#, #"{"type":"send","room":01}"#,
            #"{"type":"send","room":9223372036854775808}"#, #"{"type":"send","room":null}"#,
            #"{"type":"send","extra":1}"#, #"{"type":"send","type":"sync"}"#, #"{"type":"send",}"#,
            #"{"type":"send"} x"#, #"{}"#, #"[]"#, #""send""#, #"{"room":1}"#, #"{"type":"send","room":"1"}"#,
            #"{"type":"send","attachments":["a",]}"#, #"{"type":"send","attachments":[1]}"#, "{\"type\":\"a\nb\"}",
            #"{"type":"send""#, #"{"type":"send","room":-}"#, #"{"type":"send","room":12"#,
            #"{"type":"react","on":1}"#, #"{"type":"react","on":tru}"#, #"{"type":"react","on":"true"}"#,
            #"{"type":"react","on":true,"on":false}"#, #"{"type":"react","on":truex}"#,
        ]
        for frame in frames { #expect(InboundReader.read(frame) == nil, "\(frame)") }
    }

    /// Random damage to plain frames: whatever the reader still reads, the decoder reads the same.
    @Test func agreesWithJSONDecoderOnDamagedFrames() {
        var random = SeededRandom(seed: 0x4845_4152_5448)
        let seeds = [
            #"{"type":"send","id":"c-1","room":12,"body":"hello","attachments":["a1"]}"#,
            #"{"type":"sync","after":120}"#, #"{"type":"read","room":3,"seq":44}"#,
            #"{"type":"react","id":"r","room":3,"seq":44,"emoji":"ok","on":true,"replyTo":2}"#,
        ]
        let alphabet = Array(#"{}[]":,. -0123456789eE\"abtyprufls"#.utf8) + [0x09, 0x0A]
        var readByBoth = 0
        for round in 0..<4000 {
            var bytes = Array(seeds[round % seeds.count].utf8)
            for _ in 0...random.below(3) {
                let position = random.below(bytes.count)
                switch random.below(3) {
                case 0: bytes[position] = alphabet[random.below(alphabet.count)]
                case 1: bytes.insert(alphabet[random.below(alphabet.count)], at: position)
                default: bytes.remove(at: position)
                }
            }
            let text = String(decoding: bytes, as: UTF8.self)
            guard let read = InboundReader.read(text) else { continue }
            #expect(read == Self.decoded(text), "\(text)")
            readByBoth += 1
        }
        #expect(readByBoth > 100)
    }
}
